//! `cosign copy SOURCE DESTINATION`: copies an image (or index, or with `--platform` one of
//! its images) with its `.sig`, `.att` and `.sbom` images and, unlike cosign, its referrers
//! (cosign 3's default signature format), so every signature still verifies at the
//! destination. The image goes first by digest, then what is attached to it, then the
//! destination tag: whoever reads the tag finds the signatures already there.

use cosign_core::bundle::in_toto::COSIGN_SIGN_PREDICATE;
use cosign_core::digest::Digest;
use cosign_core::image::legacy_signature::Attachment;
use cosign_core::image::manifest::{media_types, ImageIndex, ImageManifest};
use cosign_core::image::reference::{ImageReference, Repository};
use cosign_core::image::referrer::PREDICATE_TYPE_ANNOTATION;
use cosign_oci::client::Manifest;
use cosign_oci::referrers::ReferrersMode;
use cosign_oci::signatures::{self, ResolveError};
use cosign_oci::transfer::{self, Sink, Source};
use cosign_oci::{Access, RegistryClient};
use futures::{StreamExt as _, TryStreamExt as _};

use crate::args::CopyArgs;
use crate::console;
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

/// Which attached things to copy (`--only`): every kind when the flag is absent.
struct Selection {
    attachments: Vec<Attachment>,
    /// Referrers holding image signatures (predicate `https://sigstore.dev/cosign/sign/v1`).
    signature_referrers: bool,
    /// Every other referrer (attestations, SBOMs, ...).
    other_referrers: bool,
    /// Whether the image itself is copied (not with `--only`).
    image: bool,
}

fn selection(args: &CopyArgs) -> Result<Selection, CliError> {
    let mut only: Vec<&str> = args
        .only
        .iter()
        .map(String::as_str)
        .filter(|item| !item.is_empty())
        .collect();
    if args.sig_only {
        console::info("--sig-only is deprecated, use --only=sig instead");
        only.push("sig");
    }
    if only.is_empty() {
        return Ok(Selection {
            attachments: Attachment::ALL.to_vec(),
            signature_referrers: true,
            other_referrers: true,
            image: true,
        });
    }
    if let Some(bad) = only
        .iter()
        .find(|item| !matches!(**item, "sig" | "sbom" | "att"))
    {
        return Err(CliError::new(format!(
            "invalid value for --only: {bad}, only the following values are supported: [sig sbom att]"
        )));
    }
    let attachments = Attachment::ALL
        .into_iter()
        .filter(|attachment| only.contains(&attachment.suffix()))
        .collect();
    Ok(Selection {
        attachments,
        signature_referrers: only.contains(&"sig"),
        other_referrers: only.contains(&"att"),
        image: false,
    })
}

pub async fn run(args: &CopyArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    let selection = selection(args)?;
    let source = registry_access::parse_reference(&args.source)?;
    let destination = registry_access::parse_reference(&args.destination)?;
    let client = registry_access::client(&args.registry, settings)?;
    let fetched = signatures::fetch_manifest(&client, &source, Access::Pull)
        .await
        .map_err(|error| match error {
            ResolveError::TagNotFound { source } | ResolveError::Registry { source } => {
                CliError::new(source.to_string())
            }
        })?;
    let root = match &args.platform {
        Some(platform) => {
            registry_access::select_platform(&client, source.repository(), &fetched, platform)
                .await?
        }
        None => fetched,
    };
    let copying = Copying {
        client: &client,
        signature_source: registry_access::signature_repository(source.repository())?,
        destination: destination.repository(),
        force: args.force,
    };

    // Fail before writing anything if the destination tag holds another image; nothing to do
    // for the image if it holds this one.
    let tag_image = selection.image && copying.check_overwrite(&destination, &root.digest).await?;
    let from = source.repository().digest(root.digest.clone());
    if tag_image {
        copying
            .copy(&root, &root.digest.to_string(), &from, None)
            .await?;
    }
    // What is attached to the image and, for an index, to each of its images.
    let mut entities = vec![root.digest.clone()];
    if media_types::is_index(&root.media_type) {
        let index = ImageIndex::parse(&root.bytes)
            .map_err(|error| CliError::new(format!("{}: {error}", root.digest)))?;
        entities.extend(index.manifests.into_iter().map(|child| child.digest));
    }
    futures::stream::iter(entities.iter())
        .map(|digest| copying.copy_attached(digest, &selection))
        .buffer_unordered(4)
        .try_collect::<Vec<()>>()
        .await?;
    if tag_image {
        // Everything it references is there already: the tag is one more PUT.
        console::info(format_args!("Copying {from} to {destination}..."));
        if destination.digest().is_none() {
            Sink::Registry {
                client: &client,
                repository: destination.repository(),
            }
            .put_manifest(&root, &destination.identifier())
            .await
            .map_err(|error| CliError::new(error.to_string()))?;
        }
    }
    Ok(())
}

struct Copying<'a> {
    client: &'a RegistryClient,
    signature_source: Repository,
    destination: &'a Repository,
    force: bool,
}

impl Copying<'_> {
    /// Without `-f`, a destination tag holding another manifest is an error; holding the same
    /// one, there is nothing to do (`Ok(false)`).
    async fn check_overwrite(
        &self,
        target: &ImageReference,
        digest: &Digest,
    ) -> Result<bool, CliError> {
        if self.force {
            return Ok(true);
        }
        let head = self
            .client
            .head_manifest(
                target.repository().registry(),
                target.repository().path(),
                &target.identifier(),
                Access::Pull,
            )
            .await
            .map_err(|error| CliError::new(error.to_string()))?;
        match head {
            None => Ok(true),
            Some(head) if head.digest.as_ref() == Some(digest) => Ok(false),
            Some(_) => Err(CliError::new(format!(
                "image \"{target}\" already exists. Use `-f` to overwrite"
            ))),
        }
    }

    /// Copies `manifest` (and what it references) from `from` to the destination under
    /// `reference`, announcing it when `announce` names the destination.
    async fn copy(
        &self,
        manifest: &Manifest,
        reference: &str,
        from: &ImageReference,
        announce: Option<&ImageReference>,
    ) -> Result<(), CliError> {
        if let Some(target) = announce {
            if !self.check_overwrite(target, &manifest.digest).await? {
                return Ok(());
            }
            console::info(format_args!("Copying {from} to {target}..."));
        }
        let source = Source::Registry {
            client: self.client,
            repository: from.repository(),
        };
        let sink = Sink::Registry {
            client: self.client,
            repository: self.destination,
        };
        transfer::copy_tree(&source, &sink, manifest, reference)
            .await
            .map_err(|error| CliError::new(error.to_string()))
    }

    async fn copy_attached(&self, digest: &Digest, selection: &Selection) -> Result<(), CliError> {
        let with_referrers = selection.signature_referrers || selection.other_referrers;
        let attached = transfer::attached_in_registry(
            self.client,
            &self.signature_source,
            digest,
            &selection.attachments,
            with_referrers,
        )
        .await
        .map_err(|error| CliError::new(error.to_string()))?;
        for (attachment, manifest) in &attached.images {
            let tag = attachment.tag(digest);
            let from = self.signature_source.tag(&tag);
            let target = self.destination.tag(&tag);
            self.copy(manifest, &tag, &from, Some(&target)).await?;
        }
        for referrer in &attached.referrers {
            let is_signature = ImageManifest::parse(&referrer.bytes)
                .ok()
                .and_then(|parsed| parsed.annotations)
                .and_then(|annotations| annotations.get(PREDICATE_TYPE_ANNOTATION).cloned())
                .is_some_and(|predicate| predicate == COSIGN_SIGN_PREDICATE);
            let wanted = if is_signature {
                selection.signature_referrers
            } else {
                selection.other_referrers
            };
            if !wanted {
                continue;
            }
            let from = self.signature_source.digest(referrer.digest.clone());
            let target = self.destination.digest(referrer.digest.clone());
            self.copy(referrer, &referrer.digest.to_string(), &from, Some(&target))
                .await?;
            transfer::record_referrer(
                self.client,
                self.destination,
                digest,
                referrer,
                ReferrersMode::Auto,
            )
            .await
            .map_err(|error| {
                CliError::new(format!("recording referrer {}: {error}", referrer.digest))
            })?;
        }
        Ok(())
    }
}

//! Writes the lab's sample image, a tiny single-layer linux/amd64 image, as an OCI image layout
//! (by default into `examples/sample-image`), byte for byte the same on every run: the layer is
//! an uncompressed tar with fixed owners, modes and times.
//!
//!     cargo run -p cosign-oci --example make_sample_image [-- DIR]
//!
//! The layout is what `cosign load --dir DIR IMAGE` (ours or cosign's) and `skopeo copy
//! oci:DIR:1.0 ...` read.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cosign_core::digest::Digest;
use cosign_core::image::manifest::{media_types, Descriptor, ImageManifest};
use cosign_oci::client::Manifest;
use cosign_oci::layout::{kinds, LayoutWriter, KIND_ANNOTATION};

/// 2026-01-01T00:00:00Z
const MTIME: u64 = 1_767_225_600;
const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
/// The files; the two npm packages give an SBOM producer (`syft`) something to list, and the
/// lab's policy something to refuse (`left-pad`).
const FILES: [(&str, &str); 4] = [
    (
        "hello.txt",
        "Hello from the cosign-rs lab image.\nSign me, then verify me.\n",
    ),
    (
        "etc/os-release",
        "NAME=\"cosign-rs sample\"\nID=cosign-rs-sample\nVERSION_ID=1.0\n",
    ),
    (
        "usr/lib/node_modules/is-number/package.json",
        "{\n  \"name\": \"is-number\",\n  \"version\": \"7.0.0\",\n  \"license\": \"MIT\"\n}\n",
    ),
    (
        "usr/lib/node_modules/left-pad/package.json",
        "{\n  \"name\": \"left-pad\",\n  \"version\": \"1.3.0\",\n  \"license\": \"WTFPL\"\n}\n",
    ),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("examples/sample-image"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let layer = tar(&FILES);
    let layer_digest = Digest::sha256(&layer);
    let config = format!(
        concat!(
            r#"{{"architecture":"amd64","created":"2026-01-01T00:00:00Z","#,
            r#""config":{{"Cmd":["cat","/hello.txt"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}},"#,
            r#""history":[{{"created":"2026-01-01T00:00:00Z","created_by":"cosign-rs: cargo run -p cosign-oci --example make_sample_image"}}],"#,
            r#""os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#
        ),
        layer_digest
    )
    .into_bytes();
    let descriptor = |media_type: &str, bytes: &[u8]| Descriptor {
        media_type: media_type.to_owned(),
        size: bytes.len() as u64,
        digest: Digest::sha256(bytes),
        urls: None,
        annotations: None,
        platform: None,
        artifact_type: None,
    };
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media_types::OCI_MANIFEST.to_owned()),
        config: descriptor(media_types::OCI_CONFIG, &config),
        layers: vec![descriptor(LAYER_MEDIA_TYPE, &layer)],
        annotations: None,
        subject: None,
        artifact_type: None,
    }
    .to_bytes();
    let manifest = Manifest {
        digest: Digest::sha256(&manifest),
        media_type: media_types::OCI_MANIFEST.to_owned(),
        bytes: manifest,
    };

    let mut writer = LayoutWriter::create(&dir)?;
    writer.write_blob(&layer_digest, &layer)?;
    writer.write_blob(&Digest::sha256(&config), &config)?;
    writer.write_blob(&manifest.digest, &manifest.bytes)?;
    writer.add_entry_annotated(
        &manifest,
        BTreeMap::from([
            (KIND_ANNOTATION.to_owned(), kinds::IMAGE.to_owned()),
            (
                "org.opencontainers.image.ref.name".to_owned(),
                "1.0".to_owned(),
            ),
        ]),
    );
    writer.finish()?;
    println!("{} {}", dir.display(), manifest.digest);
    Ok(())
}

/// A POSIX ustar archive of regular files (parent directories included), deterministic.
fn tar(files: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut directories: Vec<String> = Vec::new();
    for (path, content) in files {
        if let Some((parent, _)) = path.rsplit_once('/') {
            let directory = format!("{parent}/");
            if !directories.contains(&directory) {
                out.extend(header(&directory, 0, 0o755, b'5'));
                directories.push(directory);
            }
        }
        out.extend(header(path, content.len() as u64, 0o644, b'0'));
        out.extend(content.as_bytes());
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend([0u8; 1024]);
    out
}

fn header(name: &str, size: u64, mode: u32, kind: u8) -> [u8; 512] {
    let mut block = [0u8; 512];
    let mut put = |offset: usize, bytes: &[u8]| {
        for (index, byte) in bytes.iter().enumerate() {
            if let Some(slot) = block.get_mut(offset + index) {
                *slot = *byte;
            }
        }
    };
    put(0, name.as_bytes());
    put(100, format!("{mode:07o}\0").as_bytes());
    put(108, b"0000000\0");
    put(116, b"0000000\0");
    put(124, format!("{size:011o}\0").as_bytes());
    put(136, format!("{MTIME:011o}\0").as_bytes());
    put(148, b"        ");
    put(156, &[kind]);
    put(257, b"ustar\0");
    put(263, b"00");
    put(265, b"root");
    put(297, b"root");
    let checksum: u32 = block.iter().map(|byte| u32::from(*byte)).sum();
    let mut put = |offset: usize, bytes: &[u8]| {
        for (index, byte) in bytes.iter().enumerate() {
            if let Some(slot) = block.get_mut(offset + index) {
                *slot = *byte;
            }
        }
    };
    put(148, format!("{checksum:06o}\0 ").as_bytes());
    block
}

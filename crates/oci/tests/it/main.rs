//! The registry client against the real distribution registry: uploads (monolithic, chunked,
//! cross-repository mount), manifests with exact bytes, deletes.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cosign_core::digest::Digest;
use cosign_oci::auth::Anonymous;
use cosign_oci::{Access, ClientOptions, RegistryClient};
use cosign_testkit::Distribution;

fn client() -> RegistryClient {
    RegistryClient::new(ClientOptions::default(), Box::new(Anonymous)).expect("client")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn chunked_monolithic_and_mounted_uploads_store_the_same_bytes() {
    let registry = Distribution::start();
    let client = client();
    runtime().block_on(async {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        // Chunked: 64 KiB chunks.
        let digest = client
            .upload_blob_with(registry.address(), "lab/a", &data, None, 64 * 1024)
            .await
            .expect("chunked upload");
        assert_eq!(digest, Digest::sha256(&data));
        let back = client
            .get_blob(
                registry.address(),
                "lab/a",
                &digest,
                data.len(),
                Access::Pull,
            )
            .await
            .expect("read");
        assert_eq!(back, data);
        // Mounted into another repository of the same registry.
        let mounted = client
            .upload_blob_with(registry.address(), "lab/b", &data, Some("lab/a"), 64 * 1024)
            .await
            .expect("mount");
        assert_eq!(mounted, digest);
        assert!(client
            .blob_exists(registry.address(), "lab/b", &digest)
            .await
            .expect("head"));
        // Monolithic.
        let small = b"small blob".to_vec();
        let small_digest = client
            .upload_blob(registry.address(), "lab/b", &small)
            .await
            .expect("upload");
        let back = client
            .get_blob(
                registry.address(),
                "lab/b",
                &small_digest,
                1024,
                Access::Pull,
            )
            .await
            .expect("read");
        assert_eq!(back, small);
        // A blob larger than the caller allows is refused.
        let error = client
            .get_blob(registry.address(), "lab/a", &digest, 1000, Access::Pull)
            .await
            .expect_err("capped");
        assert!(
            error.to_string().contains("larger than 1000 bytes"),
            "{error}"
        );
    });
}

#[test]
fn manifests_keep_their_exact_bytes() {
    let registry = Distribution::start();
    let client = client();
    runtime().block_on(async {
        let config = br#"{}"#;
        let config_digest = client.upload_blob(registry.address(), "lab/m", config).await.expect("config");
        // Unusual spacing: a registry must give back exactly these bytes, and we hash them.
        let manifest = format!(
            "{{ \"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n  \"config\": {{\"mediaType\": \"application/vnd.oci.empty.v1+json\", \"size\": 2, \"digest\": \"{config_digest}\"}}, \"layers\": [] }}"
        );
        client
            .put_manifest(registry.address(), "lab/m", "v1", manifest.clone().into_bytes(), "application/vnd.oci.image.manifest.v1+json")
            .await
            .expect("put");
        let fetched = client.get_manifest(registry.address(), "lab/m", "v1", Access::Pull).await.expect("get").expect("exists");
        assert_eq!(fetched.bytes, manifest.as_bytes());
        assert_eq!(fetched.digest, Digest::sha256(manifest.as_bytes()));
        assert_eq!(fetched.media_type, "application/vnd.oci.image.manifest.v1+json");
        let head = client.head_manifest(registry.address(), "lab/m", "v1", Access::Pull).await.expect("head").expect("exists");
        assert_eq!(head.digest, Some(fetched.digest.clone()));
        let by_digest = client
            .get_manifest(registry.address(), "lab/m", &fetched.digest.to_string(), Access::Pull)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(by_digest.bytes, fetched.bytes);
        assert!(client.get_manifest(registry.address(), "lab/m", "v2", Access::Pull).await.expect("get").is_none());
        client
            .delete_manifest(registry.address(), "lab/m", &fetched.digest.to_string())
            .await
            .expect("delete");
        assert!(client.get_manifest(registry.address(), "lab/m", "v1", Access::Pull).await.expect("get").is_none());
    });
}

/// The committed sample image (`examples/sample-image`) is exactly what its generator makes.
#[test]
fn the_sample_image_is_what_its_generator_makes() {
    // Cargo builds the examples before running the tests: `target/<profile>/examples/`.
    let test_binary = std::env::current_exe().expect("test binary");
    let profile_dir = test_binary
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target dir");
    let generator = profile_dir.join("examples").join("make_sample_image");
    assert!(
        generator.exists(),
        "{} is missing: run `cargo test` without target filters, which builds the examples",
        generator.display()
    );
    let scratch = cosign_testkit::Scratch::new();
    scratch
        .command(&generator)
        .args([scratch.join("fresh")])
        .run()
        .success();
    let committed = cosign_testkit::repository_root().join("examples/sample-image");
    let listing = |root: &std::path::Path| {
        let mut files = Vec::new();
        let mut pending = vec![root.to_owned()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let relative = path.strip_prefix(root).expect("prefix").to_owned();
                    files.push((relative, std::fs::read(&path).expect("read")));
                }
            }
        }
        files.sort();
        files
    };
    let fresh = listing(&scratch.join("fresh"));
    assert_eq!(fresh.len(), 5);
    assert!(
        fresh == listing(&committed),
        "examples/sample-image differs from what `cargo run -p cosign-oci --example make_sample_image` makes: run it and commit the result"
    );
}

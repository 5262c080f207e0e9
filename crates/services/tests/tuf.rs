//! The TUF client against a test repository on loopback: what it caches, and what it refuses
//! (a tampered target, expired metadata, a root it cannot chain to), online and offline.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use cosign_services::tuf::{
    Freshness, Repository, TufError, SIGNING_CONFIG_TARGET, TRUSTED_ROOT_TARGET,
};
use cosign_testkit::tuf_mirror::{StaticServer, TufRepository};
use cosign_testkit::Scratch;

fn client() -> reqwest::Client {
    cosign_services::client(Duration::from_secs(10)).expect("client")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

const TRUSTED: &[u8] = b"{\"mediaType\": \"trusted root v1\"}";
const CONFIG: &[u8] = b"{\"mediaType\": \"signing config v1\"}";

fn repository(scratch: &Scratch) -> (TufRepository, StaticServer, Repository) {
    let tuf = TufRepository::create(
        &scratch.join("mirror"),
        &[
            (TRUSTED_ROOT_TARGET, TRUSTED),
            (SIGNING_CONFIG_TARGET, CONFIG),
        ],
    );
    let server = StaticServer::start(tuf.directory());
    let client_side = Repository {
        cache: scratch.join("cache"),
        mirror: server.url(),
        root: std::fs::read(tuf.initial_root()).expect("root"),
    };
    (tuf, server, client_side)
}

#[test]
fn initialize_caches_the_metadata_and_targets_as_sigstore_go_lays_them_out() {
    let scratch = Scratch::new();
    let (_tuf, server, client_side) = repository(&scratch);
    let fetched = runtime()
        .block_on(client_side.initialize(&client(), &[TRUSTED_ROOT_TARGET, SIGNING_CONFIG_TARGET]))
        .expect("initialize");
    assert_eq!(
        fetched.targets,
        vec![Some(TRUSTED.to_vec()), Some(CONFIG.to_vec())]
    );
    assert_eq!(fetched.freshness, Freshness::Mirror);
    let remote: serde_json::Value =
        serde_json::from_slice(&std::fs::read(scratch.join("cache/remote.json")).unwrap()).unwrap();
    assert_eq!(remote["mirror"], server.url());
    let directory = client_side.metadata_dir();
    assert!(directory.ends_with(server.url().trim_start_matches("http://").replace(':', "-")));
    for file in [
        "root.json",
        "timestamp.json",
        "snapshot.json",
        "targets.json",
    ] {
        let bytes = std::fs::read(directory.join(file)).expect(file);
        assert!(bytes.starts_with(b"{"), "{file}");
    }
    assert_eq!(
        std::fs::read(directory.join("targets/trusted_root.json")).unwrap(),
        TRUSTED
    );
}

#[test]
fn a_rotated_root_and_new_targets_are_followed_and_cached() {
    let scratch = Scratch::new();
    let (mut tuf, _server, mut client_side) = repository(&scratch);
    let runtime = runtime();
    runtime
        .block_on(client_side.initialize(&client(), &[TRUSTED_ROOT_TARGET]))
        .expect("initialize");
    tuf.rotate_root();
    tuf.publish(&[(TRUSTED_ROOT_TARGET, b"{\"rotated\": true}")]);
    // As the CLI does after `initialize`: start from the cached root.
    client_side.root = std::fs::read(client_side.metadata_dir().join("root.json")).unwrap();
    let fetched = runtime
        .block_on(client_side.fetch(&client(), &[TRUSTED_ROOT_TARGET], false))
        .expect("fetch");
    assert_eq!(
        fetched.targets[0].as_deref(),
        Some(&b"{\"rotated\": true}"[..])
    );
    let cached: serde_json::Value = serde_json::from_slice(
        &std::fs::read(client_side.metadata_dir().join("root.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cached["signed"]["version"], 2);
}

#[test]
fn a_tampered_target_an_expired_timestamp_and_a_foreign_root_are_refused() {
    let scratch = Scratch::new();
    let (mut tuf, _server, client_side) = repository(&scratch);
    let runtime = runtime();

    tuf.tamper_target(
        TRUSTED_ROOT_TARGET,
        b"{\"mediaType\": \"evil trusted root\"}",
    );
    let error = runtime
        .block_on(client_side.initialize(&client(), &[TRUSTED_ROOT_TARGET]))
        .expect_err("tampered");
    assert!(matches!(error, TufError::Refused { .. }), "{error}");
    assert!(!client_side
        .metadata_dir()
        .join("targets/trusted_root.json")
        .exists());

    tuf.expires_in = -60;
    tuf.publish(&[(TRUSTED_ROOT_TARGET, TRUSTED)]);
    let error = runtime
        .block_on(client_side.initialize(&client(), &[TRUSTED_ROOT_TARGET]))
        .expect_err("expired");
    assert!(error.to_string().contains("xpired"), "{error}");

    let other = TufRepository::create(&scratch.join("other"), &[(TRUSTED_ROOT_TARGET, TRUSTED)]);
    let foreign = Repository {
        root: std::fs::read(other.initial_root()).unwrap(),
        ..client_side.clone()
    };
    tuf.expires_in = 3600;
    tuf.publish(&[(TRUSTED_ROOT_TARGET, TRUSTED)]);
    let error = runtime
        .block_on(foreign.initialize(&client(), &[TRUSTED_ROOT_TARGET]))
        .expect_err("foreign root");
    assert!(matches!(error, TufError::Refused { .. }), "{error}");
}

#[test]
fn offline_the_cache_is_verified_again_and_served_until_it_expires() {
    let scratch = Scratch::new();
    let (mut tuf, server, mut client_side) = repository(&scratch);
    let runtime = runtime();
    tuf.expires_in = 3;
    tuf.publish(&[(TRUSTED_ROOT_TARGET, TRUSTED)]);
    runtime
        .block_on(client_side.initialize(&client(), &[TRUSTED_ROOT_TARGET]))
        .expect("initialize");
    drop(server);
    client_side.root = std::fs::read(client_side.metadata_dir().join("root.json")).unwrap();

    let error = runtime
        .block_on(client_side.fetch(&client(), &[TRUSTED_ROOT_TARGET], false))
        .expect_err("no offline use asked");
    assert!(matches!(error, TufError::Unreachable { .. }), "{error}");

    let fetched = runtime
        .block_on(client_side.fetch(&client(), &[TRUSTED_ROOT_TARGET], true))
        .expect("offline");
    assert_eq!(fetched.targets[0].as_deref(), Some(TRUSTED));
    assert!(matches!(fetched.freshness, Freshness::Cache { .. }));

    // A cached target that no longer matches its hash is refused offline too.
    let cached = client_side.metadata_dir().join("targets/trusted_root.json");
    std::fs::write(&cached, b"{}").unwrap();
    let error = runtime
        .block_on(client_side.fetch(&client(), &[TRUSTED_ROOT_TARGET], true))
        .expect_err("tampered cache");
    assert!(error.to_string().contains("cache"), "{error}");
    std::fs::write(&cached, TRUSTED).unwrap();

    // An oversized cached file is refused before it is read.
    let timestamp = client_side.metadata_dir().join("timestamp.json");
    let saved = std::fs::read(&timestamp).unwrap();
    std::fs::write(&timestamp, vec![b' '; 17 * 1024 * 1024]).unwrap();
    let error = runtime
        .block_on(client_side.fetch(&client(), &[TRUSTED_ROOT_TARGET], true))
        .expect_err("oversized cache");
    assert!(error.to_string().contains("limit"), "{error}");
    std::fs::write(&timestamp, saved).unwrap();

    std::thread::sleep(Duration::from_secs(4));
    let error = runtime
        .block_on(client_side.fetch(&client(), &[TRUSTED_ROOT_TARGET], true))
        .expect_err("expired cache");
    assert!(error.to_string().contains("xpired"), "{error}");
}

#[test]
fn concurrent_updates_leave_a_whole_cache() {
    let scratch = Scratch::new();
    let (mut tuf, _server, client_side) = repository(&scratch);
    let runtime = runtime();
    runtime
        .block_on(client_side.initialize(&client(), &[TRUSTED_ROOT_TARGET]))
        .expect("initialize");
    let client_side = Repository {
        root: std::fs::read(client_side.metadata_dir().join("root.json")).unwrap(),
        ..client_side
    };
    tuf.publish(&[(TRUSTED_ROOT_TARGET, b"{\"second\": true}")]);
    let results = runtime.block_on(async {
        let client = client();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (client_side, client) = (client_side.clone(), client.clone());
                tokio::spawn(async move {
                    client_side
                        .fetch(&client, &[TRUSTED_ROOT_TARGET], false)
                        .await
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("task"));
        }
        results
    });
    for result in results {
        assert_eq!(
            result.expect("fetch").targets[0].as_deref(),
            Some(&b"{\"second\": true}"[..])
        );
    }
    assert_eq!(
        std::fs::read(client_side.metadata_dir().join("targets/trusted_root.json")).unwrap(),
        b"{\"second\": true}"
    );
}

#[test]
fn a_file_mirror_serves_as_cosign_s_air_gapped_remote_and_a_bad_mirror_clears_nothing() {
    let scratch = Scratch::new();
    let (tuf, _server, client_side) = repository(&scratch);
    let runtime = runtime();
    let air_gapped = Repository {
        mirror: format!("file://{}", tuf.directory().display()),
        ..client_side.clone()
    };
    let fetched = runtime
        .block_on(air_gapped.initialize(&client(), &[TRUSTED_ROOT_TARGET]))
        .expect("file mirror");
    assert_eq!(fetched.targets[0].as_deref(), Some(TRUSTED));

    // A mirror that names no cache directory of its own ("..": the cache's parent) is
    // refused before the cache is emptied.
    let kept = scratch.write("cache/kept", "x");
    for mirror in ["..", "", "not a url"] {
        let hostile = Repository {
            mirror: mirror.to_owned(),
            ..client_side.clone()
        };
        let error = runtime
            .block_on(hostile.initialize(&client(), &[TRUSTED_ROOT_TARGET]))
            .expect_err("refused");
        assert!(
            matches!(error, TufError::Mirror { .. }),
            "{mirror:?}: {error}"
        );
        assert!(kept.exists(), "{mirror:?} emptied the cache");
    }
}

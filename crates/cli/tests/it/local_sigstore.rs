//! `cosign sigstore serve` (the local Sigstore) with real clients: cosign 3.1 and ours sign and
//! verify blobs and images with its trust files, each verifying the other's; sigstore-python
//! signs and verifies with its trust config; its log answers as the real `rekor-server` does;
//! its timestamps verify with `openssl ts -verify`; refusals carry the real services' status
//! codes; killed in the middle of appends, it restarts with every acknowledged entry and every
//! checkpoint it gave out intact.

use std::path::PathBuf;

use base64::Engine as _;
use cosign_core::keys::PrivateKey;
use cosign_core::trust::merkle::{self, MerkleTree};
use cosign_testkit::local_sigstore::{signed_entry_request, LocalSigstore};
use cosign_testkit::sigstore::{http_get, http_post, RekorLog};
use cosign_testkit::{EmbeddedRegistry, Peer, Scratch};

use crate::ours;

const ALICE: &str = "alice@example.com";

fn path(path: &std::path::Path) -> String {
    path.display().to_string()
}

fn sign_blob(scratch: &Scratch, program: PathBuf, stack: &LocalSigstore, bundle: &str) {
    scratch
        .command(program)
        .args(["sign-blob", "-y", "--identity-token", &stack.token(ALICE)])
        .args(["--signing-config", &path(&stack.signing_config_path())])
        .args(["--trusted-root", &path(&stack.trusted_root_path())])
        .args(["--bundle", bundle, "blob.txt"])
        .run()
        .success();
}

fn verify_blob(
    scratch: &Scratch,
    program: PathBuf,
    stack: &LocalSigstore,
    identity: &str,
    bundle: &str,
) -> cosign_testkit::Run {
    scratch
        .command(program)
        .args(["verify-blob", "--bundle", bundle])
        .args(["--trusted-root", &path(&stack.trusted_root_path())])
        .args(["--certificate-identity", identity])
        .args(["--certificate-oidc-issuer", &stack.issuer()])
        .args(["blob.txt"])
        .run()
}

#[test]
fn cosign31_and_ours_sign_blobs_with_it_and_verify_each_others() {
    let stack = LocalSigstore::start(&ours(), None);
    let scratch = Scratch::new();
    scratch.write("blob.txt", "a blob signed against the local sigstore\n");
    sign_blob(&scratch, Peer::Cosign3.path(), &stack, "theirs.json");
    sign_blob(&scratch, ours(), &stack, "ours.json");
    for bundle in ["theirs.json", "ours.json"] {
        for program in [Peer::Cosign3.path(), ours()] {
            let run = verify_blob(&scratch, program.clone(), &stack, ALICE, bundle);
            assert_eq!(run.code, Some(0), "{program:?} {bundle}: {}", run.stderr);
            let refused = verify_blob(&scratch, program.clone(), &stack, "bob@example.com", bundle);
            assert_ne!(
                refused.code,
                Some(0),
                "{program:?} accepted bob for {bundle}"
            );
        }
    }
    // Each bundle holds a Rekor v2 entry of this log, proven by inclusion, and a timestamp.
    let bundle: serde_json::Value =
        serde_json::from_slice(&scratch.read("ours.json")).expect("bundle");
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["version"], "0.0.2");
    assert_eq!(entry["inclusionProof"]["treeSize"], "2");
    assert_eq!(
        bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(stack_size(&stack), 2);
}

fn stack_size(stack: &LocalSigstore) -> u64 {
    let (status, body) = http_get(stack.address(), "/checkpoint").expect("checkpoint");
    assert_eq!(status, 200);
    String::from_utf8_lossy(&body)
        .lines()
        .nth(1)
        .and_then(|size| size.parse().ok())
        .expect("a checkpoint size")
}

#[test]
fn cosign31_and_ours_sign_images_with_it_and_verify_each_others() {
    let stack = LocalSigstore::start(&ours(), None);
    let registry = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    let (theirs, digest) = registry.push_random_image(&scratch, "lab/keyless:theirs");
    let theirs = format!(
        "{}@{digest}",
        theirs.split(':').take(2).collect::<Vec<_>>().join(":")
    );
    let (mine, digest) = registry.push_random_image(&scratch, "lab/keyless:ours");
    let mine = format!(
        "{}@{digest}",
        mine.split(':').take(2).collect::<Vec<_>>().join(":")
    );
    let sign = |program: PathBuf, image: &str| {
        let mut invocation = scratch
            .command(&program)
            .args(["sign", "-y", "--identity-token", &stack.token(ALICE)])
            .args(["--signing-config", &path(&stack.signing_config_path())])
            .args(["--trusted-root", &path(&stack.trusted_root_path())]);
        if program != ours() {
            invocation = invocation.args(["--allow-http-registry"]);
        }
        invocation.args([image]).run().success();
    };
    sign(Peer::Cosign3.path(), &theirs);
    sign(ours(), &mine);
    let verify = |program: PathBuf, image: &str, identity: &str| {
        let mut invocation = scratch
            .command(&program)
            .args([
                "verify",
                "--trusted-root",
                &path(&stack.trusted_root_path()),
            ])
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", &stack.issuer()]);
        if program != ours() {
            invocation = invocation.args(["--allow-http-registry"]);
        }
        invocation.args([image]).run()
    };
    for image in [&theirs, &mine] {
        for program in [Peer::Cosign3.path(), ours()] {
            let run = verify(program.clone(), image, ALICE);
            assert_eq!(run.code, Some(0), "{program:?} {image}: {}", run.stderr);
            assert_ne!(
                verify(program.clone(), image, "bob@example.com").code,
                Some(0)
            );
        }
    }
}

#[test]
fn sigstore_python_signs_and_verifies_with_its_trust_config() {
    let stack = LocalSigstore::start(&ours(), None);
    let scratch = Scratch::new();
    scratch.write("blob.txt", "a blob for sigstore-python\n");
    let python = || {
        scratch
            .command(Peer::SigstorePython.path())
            .args(["--trust-config", &path(&stack.trust_config_path())])
    };
    python()
        .args(["sign", "--identity-token", &stack.token(ALICE)])
        .args(["--bundle", "python.json", "blob.txt"])
        .run()
        .success();
    let verify = |bundle: &str, identity: &str| {
        python()
            .args(["verify", "identity", "--offline", "--bundle", bundle])
            .args(["--cert-identity", identity])
            .args(["--cert-oidc-issuer", &stack.issuer(), "blob.txt"])
            .run()
    };
    verify("python.json", ALICE).success();
    verify("python.json", "bob@example.com").failure(1);
    // What sigstore-python signed, ours verifies; what ours signed, sigstore-python verifies.
    verify_blob(&scratch, ours(), &stack, ALICE, "python.json").success();
    sign_blob(&scratch, ours(), &stack, "ours.json");
    verify("ours.json", ALICE).success();
}

#[test]
fn its_timestamps_verify_with_openssl_ts() {
    let stack = LocalSigstore::start(&ours(), None);
    let scratch = Scratch::new();
    scratch.write("data.txt", "timestamped\n");
    for (certificates, extra) in [(true, &["-cert"][..]), (false, &[][..])] {
        scratch
            .command("openssl")
            .args(["ts", "-query", "-data", "data.txt", "-sha256"])
            .args(extra)
            .args(["-out", "query.tsq"])
            .run()
            .success();
        let (status, head, response) = http_post(
            stack.address(),
            "/api/v1/timestamp",
            "application/timestamp-query",
            &scratch.read("query.tsq"),
        )
        .expect("POST /api/v1/timestamp");
        assert_eq!(status, 200, "{head}");
        scratch.write("response.tsr", response);
        let (_, chain) = http_get(stack.address(), "/api/v1/timestamp/certchain").expect("chain");
        let chain = String::from_utf8(chain).expect("PEM");
        let blocks: Vec<String> = chain
            .split_inclusive("-----END CERTIFICATE-----\n")
            .map(str::to_owned)
            .collect();
        assert_eq!(blocks.len(), 2, "{chain}");
        scratch.write("tsa.pem", &blocks[0]);
        scratch.write("root.pem", &blocks[1]);
        let mut verify = scratch
            .command("openssl")
            .args([
                "ts",
                "-verify",
                "-in",
                "response.tsr",
                "-queryfile",
                "query.tsq",
            ])
            .args(["-CAfile", "root.pem"]);
        if !certificates {
            // Without -cert the token carries no certificate: the verifier brings it.
            verify = verify.args(["-untrusted", "tsa.pem"]);
        }
        let run = verify.run().success();
        assert!(run.stdout.contains("Verification: OK"), "{}", run.stdout);
    }
    // Another document's query does not verify against this response.
    scratch.write("other.txt", "not timestamped\n");
    scratch
        .command("openssl")
        .args(["ts", "-verify", "-in", "response.tsr", "-data", "other.txt"])
        .args(["-CAfile", "root.pem", "-untrusted", "tsa.pem"])
        .run()
        .failure(1);
}

fn post_entry(address: &str, request: &[u8]) -> (u16, String, serde_json::Value) {
    let (status, head, body) =
        http_post(address, "/api/v2/log/entries", "application/json", request)
            .expect("POST /api/v2/log/entries");
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|_| panic!("not JSON ({status}): {}", String::from_utf8_lossy(&body)));
    (status, head, json)
}

#[test]
fn its_log_answers_as_rekor_server_does() {
    let stack = LocalSigstore::start(&ours(), None);
    let rekor = RekorLog::start();
    let rekor_address = rekor
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let request = signed_entry_request(&key, "the same entry for both logs");
    let (ours_status, _, ours_entry) = post_entry(stack.address(), &request);
    let (real_status, _, real_entry) = post_entry(&rekor_address, &request);
    assert_eq!((ours_status, real_status), (201, 201));
    for field in [
        "canonicalizedBody",
        "kindVersion",
        "logIndex",
        "integratedTime",
    ] {
        assert_eq!(ours_entry[field], real_entry[field], "{field}");
    }
    for field in ["logIndex", "treeSize", "rootHash", "hashes"] {
        assert_eq!(
            ours_entry["inclusionProof"][field], real_entry["inclusionProof"][field],
            "inclusionProof.{field}"
        );
    }
    // The same shape of answer: the same fields, the checkpoint a signed note of the same size.
    let keys = |entry: &serde_json::Value| {
        let mut keys: Vec<String> = entry.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&ours_entry), keys(&real_entry));
    let envelope = |entry: &serde_json::Value| {
        entry["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .expect("checkpoint")
            .lines()
            .skip(1)
            .take(2)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(envelope(&ours_entry), envelope(&real_entry));
    // Both refuse the same entry again (409, its index in X-Log-Index) and a malformed one (400).
    for address in [stack.address(), rekor_address.as_str()] {
        let (status, head, body) = post_entry(address, &request);
        assert_eq!(status, 409, "{address}: {body}");
        assert_eq!(body["code"], 6);
        assert!(
            head.to_ascii_lowercase().contains("x-log-index: 0"),
            "{head}"
        );
        let (status, _, body) = post_entry(address, br#"{"bad": 1}"#);
        assert_eq!(
            (status, body["code"].clone()),
            (400, 3.into()),
            "{address}: {body}"
        );
        let mut forged: serde_json::Value = serde_json::from_slice(&request).expect("json");
        forged["hashedRekordRequestV002"]["digest"] = base64::engine::general_purpose::STANDARD
            .encode([7u8; 32])
            .into();
        let (status, _, body) = post_entry(address, forged.to_string().as_bytes());
        assert_eq!(
            status, 400,
            "{address}: a signature over another digest: {body}"
        );
        assert_eq!(body["message"], "invalid hashedrekord request");
    }
}

#[test]
fn refusals_carry_the_real_services_status_codes() {
    let stack = LocalSigstore::start(&ours(), None);
    let other = LocalSigstore::start(&ours(), None);
    let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let pem = key.public_key().to_pem().expect("pem");
    let signing_cert = |token: &str, signed: &str| {
        let proof = key.sign(signed.as_bytes()).expect("sign");
        let body = serde_json::json!({
            "credentials": {"oidcIdentityToken": token},
            "publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": pem},
                "proofOfPossession": base64::engine::general_purpose::STANDARD.encode(proof),
            },
        });
        let (status, _, answer) = http_post(
            stack.address(),
            "/api/v2/signingCert",
            "application/json",
            body.to_string().as_bytes(),
        )
        .expect("POST /api/v2/signingCert");
        let answer: serde_json::Value = serde_json::from_slice(&answer).expect("JSON");
        (status, answer)
    };
    let (status, answer) = signing_cert(&stack.token(ALICE), ALICE);
    assert_eq!(status, 200, "{answer}");
    let chain = answer["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .expect("chain");
    assert_eq!(chain.len(), 2);
    let leaf = cosign_core::trust::certificate::Certificate::from_pem(
        chain[0].as_str().expect("PEM").as_bytes(),
    )
    .expect("leaf");
    assert_eq!(leaf.subject_alternative_names(), vec![ALICE.to_owned()]);
    assert_eq!(leaf.oidc_issuer().as_deref(), Some(stack.issuer().as_str()));
    // A token of another issuer, a proof over something else, a garbage token: Fulcio's 400s.
    let (status, answer) = signing_cert(&other.token(ALICE), ALICE);
    assert_eq!(status, 400);
    assert_eq!(
        answer["message"],
        "There was an error processing the identity token"
    );
    let (status, answer) = signing_cert(&stack.token(ALICE), "bob@example.com");
    assert_eq!(status, 400);
    assert_eq!(
        answer["message"],
        "The signature supplied in the request could not be verified"
    );
    let (status, answer) = signing_cert("not.a.token", ALICE);
    assert_eq!((status, answer["code"].clone()), (400, 3.into()));
    // The TSA refuses what is not a query; unknown paths are 404; a huge body is 413.
    let (status, _, _) = http_post(
        stack.address(),
        "/api/v1/timestamp",
        "application/timestamp-query",
        b"not DER",
    )
    .expect("POST");
    assert_eq!(status, 400);
    assert_eq!(
        http_get(stack.address(), "/api/v2/nothing").expect("GET").0,
        404
    );
    assert_eq!(
        http_get(stack.address(), "/tile/0/x001").expect("GET").0,
        404
    );
    assert_eq!(
        http_get(stack.address(), "/tile/entries/000.p/0")
            .expect("GET")
            .0,
        404
    );
    let (status, _, _) = http_post(
        stack.address(),
        "/api/v2/log/entries",
        "application/json",
        &vec![b' '; 300 * 1024],
    )
    .expect("POST");
    assert_eq!(status, 413);
    // A request naming another host (a web page's, through a rebound DNS name) is refused.
    {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(stack.address()).expect("connect");
        stream
            .write_all(b"GET /oauth2/token?sub=alice@example.com HTTP/1.0\r\nHost: attacker.example:80\r\n\r\n")
            .expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        assert!(answer.starts_with("HTTP/1.0 403"), "{answer}");
        assert!(!answer.contains("eyJ"), "{answer}");
    }
    // Tokens are minted for identities only: not for an empty or spaced one.
    assert_eq!(
        http_get(stack.address(), "/oauth2/token?sub=")
            .expect("GET")
            .0,
        400
    );
    assert_eq!(
        http_get(stack.address(), "/oauth2/token?sub=a%20b")
            .expect("GET")
            .0,
        400
    );
}

/// An acknowledged append: the entry, its index, and the checkpoint it came with.
struct Acknowledged {
    body: Vec<u8>,
    index: u64,
    size: u64,
    root: String,
}

#[test]
fn killed_mid_append_it_restarts_with_every_acknowledged_entry_and_checkpoint() {
    let storage = tempfile::tempdir().expect("storage");
    let stack = LocalSigstore::start(&ours(), Some(storage.path()));
    let address = stack.address().to_owned();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let address = address.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
                let mut acknowledged = Vec::new();
                let mut attempt = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    attempt += 1;
                    let request =
                        signed_entry_request(&key, &format!("writer {writer} entry {attempt}"));
                    let Ok((201, _, body)) = http_post(
                        &address,
                        "/api/v2/log/entries",
                        "application/json",
                        &request,
                    ) else {
                        continue;
                    };
                    let entry: serde_json::Value = serde_json::from_slice(&body).expect("json");
                    let proof = &entry["inclusionProof"];
                    acknowledged.push(Acknowledged {
                        body: base64::engine::general_purpose::STANDARD
                            .decode(entry["canonicalizedBody"].as_str().expect("body"))
                            .expect("base64"),
                        index: entry["logIndex"]
                            .as_str()
                            .expect("index")
                            .parse()
                            .expect("index"),
                        size: proof["treeSize"]
                            .as_str()
                            .expect("size")
                            .parse()
                            .expect("size"),
                        root: proof["rootHash"].as_str().expect("root").to_owned(),
                    });
                }
                acknowledged
            })
        })
        .collect();
    // Kill it once entries are flowing: some requests are in flight, some half written.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while stack_size(&stack) < 40 {
        assert!(
            std::time::Instant::now() < deadline,
            "the log is not growing"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let trust_before: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stack.trusted_root_path()).expect("root"))
            .expect("json");
    stack.kill();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acknowledged: Vec<Acknowledged> = writers
        .into_iter()
        .flat_map(|writer| writer.join().expect("writer"))
        .collect();
    assert!(
        acknowledged.len() >= 40,
        "{} acknowledged",
        acknowledged.len()
    );
    let restarted = LocalSigstore::start(&ours(), Some(storage.path()));
    let size = stack_size(&restarted);
    // The same keys after the restart: what was signed before still verifies.
    let trust_after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(restarted.trusted_root_path()).expect("root"))
            .expect("json");
    for (part, key) in [
        ("tlogs", "publicKey"),
        ("ctlogs", "publicKey"),
        ("certificateAuthorities", "certChain"),
        ("timestampAuthorities", "certChain"),
    ] {
        assert_eq!(
            trust_before[part][0][key], trust_after[part][0][key],
            "{part}"
        );
    }
    // Read the whole log back through its entry tiles and rebuild its tree.
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut tile = 0u64;
    while (entries.len() as u64) < size {
        let remaining = size - entries.len() as u64;
        let path = if remaining >= 256 {
            format!("/tile/entries/{tile:03}")
        } else {
            format!("/tile/entries/{tile:03}.p/{remaining}")
        };
        let (status, bundle) = http_get(restarted.address(), &path).expect("entry bundle");
        assert_eq!(status, 200, "{path}");
        let mut rest = bundle.as_slice();
        while let [high, low, tail @ ..] = rest {
            let length = usize::from(u16::from_be_bytes([*high, *low]));
            entries.push(tail[..length].to_vec());
            rest = &tail[length..];
        }
        tile += 1;
    }
    assert_eq!(entries.len() as u64, size);
    let tree = MerkleTree::from_leaf_hashes(entries.iter().map(|entry| merkle::leaf_hash(entry)));
    for ack in &acknowledged {
        assert!(
            ack.size <= size,
            "a checkpoint of {} entries, the log has {size}",
            ack.size
        );
        assert_eq!(entries[ack.index as usize], ack.body, "entry {}", ack.index);
        let root =
            base64::engine::general_purpose::STANDARD.encode(tree.root(ack.size).expect("root"));
        assert_eq!(root, ack.root, "the checkpoint of size {}", ack.size);
    }
    // The level-0 hash tile is the tree's leaf hashes, and appends go on after the restart.
    let (status, hashes) = http_get(
        restarted.address(),
        &format!("/tile/0/000.p/{}", size.min(255)),
    )
    .expect("hash tile");
    assert_eq!(status, 200);
    assert_eq!(&hashes[..32], &tree.node(0, 0).expect("leaf")[..]);
    let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let (status, _, entry) = post_entry(restarted.address(), &signed_entry_request(&key, "after"));
    assert_eq!(status, 201, "{entry}");
    assert_eq!(entry["logIndex"], size.to_string());
}

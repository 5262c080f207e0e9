//! Opening a cosign key file: scrypt (N=65536, r=8, p=1) dominates. `scripts/bench.sh` runs this
//! beside OpenSSL's scrypt with the same parameters and prints the ratio.

#![allow(clippy::expect_used)]

use cosign_core::keys::{decrypt_private_key, encrypt_private_key, Password, PrivateKey};
use criterion::{criterion_group, criterion_main, Criterion};

fn key_decryption(c: &mut Criterion) {
    let mut rng = rand_core::OsRng;
    let password = Password::new(b"benchmark password".to_vec());
    let key = PrivateKey::generate_ecdsa_p256(&mut rng);
    let file = encrypt_private_key(&key, &password, &mut rng).expect("encrypts");
    let mut group = c.benchmark_group("key_decryption");
    group.sample_size(20);
    group.bench_function("decrypt_cosign_key_p256", |b| {
        b.iter(|| decrypt_private_key(file.as_bytes(), &password).expect("decrypts"))
    });
    group.finish();
}

criterion_group!(benches, key_decryption);
criterion_main!(benches);

//! One module per subcommand; each takes its parsed arguments and the resolved settings.

pub mod attach_signature;
pub mod bundle_create;
pub mod bundle_upgrade;
pub mod clean;
pub mod completion;
pub mod copy;
pub mod download_signature;
pub mod env;
pub mod generate;
pub mod generate_key_pair;
pub mod import_key_pair;
pub mod load;
pub mod login;
pub mod public_key;
pub mod registry_serve;
pub mod save;
pub mod sign;
pub mod sign_blob;
pub mod tree;
pub mod triangulate;
pub mod trusted_root_create;
pub mod verify;
pub mod verify_blob;
pub mod version;

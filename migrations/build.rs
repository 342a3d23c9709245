// `sqlx::migrate!` embeds the SQL files when this crate compiles: recompile when one is added.
fn main() {
    println!("cargo:rerun-if-changed=sql");
}

//! The real `ispeaker-replay` binary, as an operator runs it from the project's directory: it
//! reads `.env` like the server, reports a database it cannot reach once and plainly, and ends
//! with the exit code of the README's table. None of these needs a database.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A directory of its own for one test, holding a `.env` when given one.
fn directory_with_env(test: &str, env: Option<&str>) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("ispeaker-replay-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let file = directory.join(".env");
    match env {
        Some(text) => std::fs::write(&file, text).unwrap(),
        None => {
            let _ = std::fs::remove_file(&file);
        }
    }
    directory
}

fn replay(directory: &PathBuf, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ispeaker-replay")).args(args).env_clear().current_dir(directory).output().unwrap()
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn it_reads_the_database_from_dot_env_and_reports_a_refused_connection_once_with_exit_code_3() {
    let port = closed_port();
    let directory = directory_with_env(
        "refused",
        Some(&format!("DATABASE_URL=mysql://ispeaker:not-to-be-printed@127.0.0.1:{port}/ispeaker\nDATA_KEY_SECRET=x\n")),
    );
    let started = Instant::now();
    let output = replay(&directory, &["verify-chain"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.matches("cannot connect to the database").count(), 1, "{stderr}");
    assert!(stderr.contains(&format!("cannot connect to the database at 127.0.0.1:{port}: ")), "{stderr}");
    assert!(stderr.to_lowercase().contains("connection refused"), "{stderr}");
    assert!(!stderr.contains("not-to-be-printed"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[test]
fn without_a_database_url_anywhere_it_is_a_configuration_error() {
    let directory = directory_with_env("missing", None);
    let output = replay(&directory, &["verify-chain"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn a_flag_overrides_dot_env_and_a_url_of_another_database_is_refused_with_exit_code_2() {
    let directory = directory_with_env("scheme", Some("DATABASE_URL=mysql://nobody@127.0.0.1:1/none\n"));
    let output = replay(&directory, &["--database-url", "postgres://ispeaker:not-to-be-printed@localhost/ispeaker", "verify-chain"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("must start with mysql:// or mariadb://"), "{stderr}");
    assert!(!stderr.contains("not-to-be-printed"), "{stderr}");
}

#[test]
fn help_lists_the_exit_codes() {
    let directory = directory_with_env("help", None);
    let output = replay(&directory, &["--help"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0));
    for line in ["Exit codes", "1  a check found a mismatch", "2  usage or configuration error", "3  the database is unreachable", "4  the database schema is not migrated"] {
        assert!(stdout.contains(line), "no {line:?} in {stdout}");
    }
    assert!(stdout.contains(".env"), "{stdout}");
}

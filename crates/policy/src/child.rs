//! Running a policy engine in another process: the input through a pipe, both outputs read
//! with a cap (and the rest drained, so the child never blocks on a full pipe), killed at a
//! deadline.

use std::io::{Read as _, Write as _};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How a child ended.
#[derive(Debug)]
pub(crate) struct Finished {
    /// Its exit status, or why there is none (killed at the deadline, could not wait).
    pub status: Result<ExitStatus, Stopped>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

#[derive(Debug)]
pub(crate) enum Stopped {
    Deadline(Duration),
    Wait(std::io::Error),
}

/// Runs `command` with `input` on its standard input; kills it after `limit`.
pub(crate) fn run(
    mut command: Command,
    input: &[u8],
    limit: Duration,
    output_cap: u64,
) -> std::io::Result<Finished> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let read_capped = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        let mut text = Vec::new();
        if let Some(pipe) = pipe {
            let mut capped = pipe.take(output_cap);
            let _ = capped.read_to_end(&mut text);
            let _ = std::io::copy(&mut capped.into_inner(), &mut std::io::sink());
        }
        text
    };
    Ok(std::thread::scope(|scope| {
        scope.spawn(|| {
            if let Some(mut stdin) = stdin {
                // A child that stops reading early (a syntax error) closes the pipe: fine.
                let _ = stdin.write_all(input);
            }
        });
        let stdout = scope.spawn(|| {
            read_capped(stdout.map(|pipe| Box::new(pipe) as Box<dyn std::io::Read + Send>))
        });
        let stderr = scope.spawn(|| {
            read_capped(stderr.map(|pipe| Box::new(pipe) as Box<dyn std::io::Read + Send>))
        });
        let deadline = Instant::now() + limit;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(Stopped::Deadline(limit));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                Err(error) => break Err(Stopped::Wait(error)),
            }
        };
        Finished {
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        }
    }))
}

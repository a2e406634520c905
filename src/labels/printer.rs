//! Sending a label to the printer named in the configuration: a raw TCP address (port 9100 on
//! most label printers) or a command that takes the label on its standard input
//! (`lp -d ZEBRA -o raw`). A missing, failing or silent printer is an error to show, never a
//! crash and never a wait without end: each label gets `[printer] timeout_s`, then it is given
//! up (a command is killed, with every process it started) and reported like a refused label.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a label may take when the configuration does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printer {
    Tcp(String),
    Command(String),
}

impl Printer {
    /// From the configuration: an address or a command (the configuration refuses both); None
    /// when there is neither.
    pub fn from_config(c: &crate::config::PrinterConfig) -> Option<Printer> {
        match (&c.address, &c.command) {
            (Some(a), _) if !a.trim().is_empty() => Some(Printer::Tcp(a.trim().to_string())),
            (_, Some(cmd)) if !cmd.trim().is_empty() => Some(Printer::Command(cmd.trim().to_string())),
            _ => None,
        }
    }

    /// Sends `bytes` within [`DEFAULT_TIMEOUT`].
    pub fn send(&self, bytes: &[u8]) -> Result<(), String> {
        self.send_within(bytes, DEFAULT_TIMEOUT)
    }

    /// Sends `bytes`, giving up after `timeout`; the error says which printer and why.
    pub fn send_within(&self, bytes: &[u8], timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let silent = format!("no answer within {}", crate::store::seconds(timeout));
        match self {
            Printer::Tcp(addr) => {
                let said = |e: std::io::Error| match e.kind() {
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                        format!("printer {addr}: {silent}")
                    }
                    _ => format!("printer {addr}: {e}"),
                };
                let target = addr
                    .to_socket_addrs()
                    .map_err(|e| format!("printer {addr}: {e}"))?
                    .next()
                    .ok_or_else(|| format!("printer {addr}: no such address"))?;
                let mut s = TcpStream::connect_timeout(&target, timeout).map_err(said)?;
                // A printer that takes the connection but not the label: each write may wait only
                // for what is left of the time.
                let mut rest = bytes;
                while !rest.is_empty() {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(format!("printer {addr}: {silent}"));
                    }
                    s.set_write_timeout(Some(left)).map_err(said)?;
                    match s.write(rest) {
                        Ok(0) => return Err(format!("printer {addr}: the connection was closed")),
                        Ok(n) => rest = &rest[n..],
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(said(e)),
                    }
                }
                s.flush().map_err(said)
            }
            Printer::Command(cmd) => {
                let said = |e: std::io::Error| format!("printer command {cmd}: {e}");
                // Its own process group, so that stopping it stops whatever the shell started.
                let mut child = Command::new("sh")
                    .args(["-c", cmd])
                    .process_group(0)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(said)?;
                // The label is written and the errors read on threads of their own: a command that
                // reads neither must not hold this thread past the deadline.
                let (tx, rx) = mpsc::channel();
                let (mut stdin, mut stderr) = (child.stdin.take(), child.stderr.take());
                let label = bytes.to_vec();
                let to_label = tx.clone();
                std::thread::spawn(move || {
                    let written = stdin.as_mut().map_or(Ok(()), |s| s.write_all(&label));
                    drop(stdin);
                    let _ = to_label.send(Err(written));
                });
                std::thread::spawn(move || {
                    let mut why = String::new();
                    if let Some(s) = stderr.as_mut() {
                        let _ = s.read_to_string(&mut why);
                    }
                    let _ = tx.send(Ok(why));
                });
                let Some(status) = wait_until(&mut child, deadline).map_err(said)? else {
                    stop_group(&mut child);
                    return Err(format!("printer command {cmd}: {silent}; it was stopped"));
                };
                let (mut written, mut why) = (Ok(()), String::new());
                for _ in 0..2 {
                    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                        Ok(Err(w)) => written = w,
                        Ok(Ok(w)) => why = w,
                        Err(_) => break,
                    }
                }
                if !status.success() {
                    Err(format!("printer command {cmd}: {status} {}", why.trim()))
                } else {
                    written.map_err(said)
                }
            }
        }
    }
}

/// The child's exit status, or None when it is still running at `deadline`.
fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Option<std::process::ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kills the child's whole process group (the shell and what it started), then reaps the
/// child. The child has not been reaped yet, so its group id is still its own.
fn stop_group(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill only sends a signal; a negative pid names the child's process group.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printer_that_takes_the_connection_but_not_the_label_is_given_up() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let held = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
        let started = Instant::now();
        // More than the socket buffers hold, so the writes must wait for the printer.
        let err = Printer::Tcp(addr.clone()).send_within(&vec![b'x'; 64 << 20], Duration::from_millis(300));
        assert_eq!(err, Err(format!("printer {addr}: no answer within 0.3 s")));
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        drop(held.join());
    }

    #[test]
    fn a_printer_that_does_not_answer_the_connection_is_given_up() {
        // A listener whose queue of connections is full: the kernel drops further requests, so a
        // connection is never answered, as with a printer that is off.
        // SAFETY: plain socket calls on a descriptor this test owns.
        let (fd, addr) = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            let mut sa: libc::sockaddr_in = std::mem::zeroed();
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            assert_eq!(libc::bind(fd, std::ptr::addr_of!(sa).cast(), len), 0);
            assert_eq!(libc::listen(fd, 0), 0);
            let mut got: libc::sockaddr_in = std::mem::zeroed();
            let mut got_len = len;
            libc::getsockname(fd, std::ptr::addr_of_mut!(got).cast(), &mut got_len);
            (fd, format!("127.0.0.1:{}", u16::from_be(got.sin_port)))
        };
        let target: std::net::SocketAddr = addr.parse().unwrap();
        let fillers: Vec<_> = (0..4)
            .filter_map(|_| TcpStream::connect_timeout(&target, Duration::from_millis(200)).ok())
            .collect();
        let started = Instant::now();
        let err = Printer::Tcp(addr.clone()).send_within(b"^XA^XZ", Duration::from_millis(300));
        assert_eq!(err, Err(format!("printer {addr}: no answer within 0.3 s")));
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        drop(fillers);
        // SAFETY: closes the test's own listener.
        unsafe { libc::close(fd) };
    }

    #[test]
    fn a_command_that_hangs_is_stopped_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("sleep.pid");
        let cmd = format!("sleep 1000 & echo $! > '{}'; wait", pid_file.display());
        let started = Instant::now();
        let err = Printer::Command(cmd.clone()).send_within(b"^XA^XZ", Duration::from_millis(300));
        assert_eq!(err, Err(format!("printer command {cmd}: no answer within 0.3 s; it was stopped")));
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        let pid = std::fs::read_to_string(&pid_file).unwrap().trim().to_string();
        assert!(gone(&pid), "the shell's child {pid} was left running");
    }

    /// Whether process `pid` has ended (gone, or a zombie waiting for its new parent).
    fn gone(pid: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                Err(_) => return true,
                Ok(stat) if stat.rsplit(')').next().is_some_and(|s| s.trim_start().starts_with('Z')) => {
                    return true
                }
                Ok(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        false
    }
}

//! Sending a label to the printer named in the configuration: a raw TCP address (port 9100 on
//! most label printers) or a command that takes the label on its standard input
//! (`lp -d ZEBRA -o raw`). A missing or failing printer is an error to show, never a crash.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::process::{Command, Stdio};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printer {
    Tcp(String),
    Command(String),
}

impl Printer {
    /// From the configuration: an address wins over a command; neither is None.
    pub fn from_config(c: &crate::config::PrinterConfig) -> Option<Printer> {
        match (&c.address, &c.command) {
            (Some(a), _) if !a.trim().is_empty() => Some(Printer::Tcp(a.trim().to_string())),
            (_, Some(cmd)) if !cmd.trim().is_empty() => Some(Printer::Command(cmd.trim().to_string())),
            _ => None,
        }
    }

    /// Sends `bytes`; the error says which printer and why.
    pub fn send(&self, bytes: &[u8]) -> Result<(), String> {
        match self {
            Printer::Tcp(addr) => {
                let target = addr
                    .to_socket_addrs()
                    .map_err(|e| format!("printer {addr}: {e}"))?
                    .next()
                    .ok_or_else(|| format!("printer {addr}: no such address"))?;
                let mut s = TcpStream::connect_timeout(&target, Duration::from_secs(3))
                    .map_err(|e| format!("printer {addr}: {e}"))?;
                s.set_write_timeout(Some(Duration::from_secs(5))).ok();
                s.write_all(bytes).and_then(|_| s.flush()).map_err(|e| format!("printer {addr}: {e}"))
            }
            Printer::Command(cmd) => {
                let mut child = Command::new("sh")
                    .args(["-c", cmd])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("printer command {cmd}: {e}"))?;
                if let Some(mut stdin) = child.stdin.take() {
                    stdin.write_all(bytes).map_err(|e| format!("printer command {cmd}: {e}"))?;
                }
                let out = child.wait_with_output().map_err(|e| format!("printer command {cmd}: {e}"))?;
                if out.status.success() {
                    Ok(())
                } else {
                    let why = String::from_utf8_lossy(&out.stderr);
                    Err(format!("printer command {cmd}: {} {}", out.status, why.trim()))
                }
            }
        }
    }
}

//! The station's print queue: labels go to the printer from a thread of their own, in order.
//! A label the printer refuses stays at the head of the queue and is tried again every
//! `retry`, so a jammed or unplugged printer never blocks scanning and loses no label; each
//! attempt is reported, so the station can say what is waiting.

use super::printer::Printer;
use std::collections::VecDeque;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

/// One label to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// What the label is of, e.g. `U00000042`.
    pub label: String,
    pub bytes: Vec<u8>,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintNews {
    pub label: String,
    /// Why the printer refused it (it is still queued), or None when it printed.
    pub error: Option<String>,
    /// Labels still waiting, this one included when it failed.
    pub waiting: usize,
}

pub struct PrintQueue {
    tx: Sender<Job>,
}

impl PrintQueue {
    /// Starts the queue's thread; `report` hears of every attempt. Each attempt may take
    /// `timeout`, after which it counts as refused (a printer that does not answer).
    pub fn start(
        printer: Printer,
        retry: Duration,
        timeout: Duration,
        mut report: impl FnMut(PrintNews) + Send + 'static,
    ) -> PrintQueue {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::spawn(move || {
            let mut pending: VecDeque<Job> = VecDeque::new();
            loop {
                let next = if pending.is_empty() {
                    rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
                } else {
                    rx.recv_timeout(retry)
                };
                match next {
                    Ok(job) => pending.push_back(job),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                pending.extend(rx.try_iter());
                while let Some(job) = pending.front() {
                    match printer.send_within(&job.bytes, timeout) {
                        Ok(()) => {
                            let label = job.label.clone();
                            pending.pop_front();
                            report(PrintNews { label, error: None, waiting: pending.len() });
                        }
                        Err(e) => {
                            report(PrintNews {
                                label: job.label.clone(),
                                error: Some(e),
                                waiting: pending.len(),
                            });
                            break;
                        }
                    }
                }
            }
        });
        PrintQueue { tx }
    }

    /// Queues a label; never blocks.
    pub fn print(&self, job: Job) {
        let _ = self.tx.send(job);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_refused_label_waits_and_prints_when_the_printer_comes_back() {
        // A port that refuses until a listener takes it over.
        let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        let retry = Duration::from_millis(50);
        let q = PrintQueue::start(Printer::Tcp(addr.to_string()), retry, Duration::from_secs(3), move |n| {
            tx.send(n).unwrap();
        });
        q.print(Job { label: "U1".into(), bytes: b"one".to_vec() });
        q.print(Job { label: "U2".into(), bytes: b"two".to_vec() });
        let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(first.label, "U1");
        assert!(first.error.is_some(), "refused: {first:?}");
        let listener = std::net::TcpListener::bind(addr).unwrap();
        let mut got = Vec::new();
        for _ in 0..2 {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).unwrap();
            got.push(buf);
        }
        assert_eq!(got, [b"one".to_vec(), b"two".to_vec()], "in order, nothing lost");
        let printed: Vec<PrintNews> = rx.iter().filter(|n| n.error.is_none()).take(2).collect();
        assert_eq!(printed.last().map(|n| n.waiting), Some(0));
    }
}

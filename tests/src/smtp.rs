//! A minimal SMTP server for tests that check mail notifications arrive: it listens on
//! 127.0.0.1, accepts any number of plain-text sessions (EHLO, optional AUTH, MAIL, RCPT,
//! DATA, QUIT) and keeps every message's data. Enough for lettre without TLS; nothing here
//! is a mail server.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// The running sink; messages are collected until it is dropped with the process.
#[derive(Debug)]
pub struct SmtpSink {
    pub address: SocketAddr,
    messages: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    /// Starts the sink on a free loopback port.
    pub fn start() -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let messages: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = messages.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    // A session that breaks off is simply over.
                    let _ = session(stream, &sink);
                });
            }
        });
        Ok(SmtpSink { address, messages })
    }

    /// The data of every message received so far (headers and body, dot-unstuffed).
    pub fn messages(&self) -> Vec<String> {
        self.messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

fn session(stream: TcpStream, sink: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    writer.write_all(b"220 sink ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") || command.starts_with("HELO") {
            writer.write_all(b"250-sink\r\n250 AUTH PLAIN LOGIN\r\n")?;
        } else if command.starts_with("AUTH") {
            writer.write_all(b"235 ok\r\n")?;
        } else if command == "DATA" {
            writer.write_all(b"354 go on\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            sink.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(data);
            writer.write_all(b"250 queued\r\n")?;
        } else if command == "QUIT" {
            writer.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            // MAIL FROM, RCPT TO, RSET, NOOP.
            writer.write_all(b"250 ok\r\n")?;
        }
    }
}

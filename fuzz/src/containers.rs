//! Containers built in the target around fuzzed bytes (gzip, zip, tar), and damage
//! done to them, so the fuzzer reaches the readers behind valid and broken headers.

use std::io::{Cursor, Write};

#[derive(Clone, Copy, Debug)]
pub enum Container {
    Gzip,
    Zip,
    Tar,
}

impl Container {
    /// Two bits: 0 none, 1 gzip, 2 zip, 3 tar.
    pub fn from_bits(bits: u8) -> Option<Self> {
        match bits & 0b11 {
            1 => Some(Self::Gzip),
            2 => Some(Self::Zip),
            3 => Some(Self::Tar),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Gzip => "gz",
            Self::Zip => "zip",
            Self::Tar => "tar",
        }
    }

    /// `bytes` as the one member of this container, named `member` where the
    /// container names its members; `compress` false stores them as they are.
    pub fn wrap(self, member: &str, bytes: &[u8], compress: bool) -> Vec<u8> {
        match self {
            Self::Gzip => {
                let level = if compress {
                    flate2::Compression::default()
                } else {
                    flate2::Compression::none()
                };
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
                encoder.write_all(bytes).expect("writes to memory");
                encoder.finish().expect("writes to memory")
            }
            Self::Zip => {
                let method = if compress {
                    zip::CompressionMethod::Deflated
                } else {
                    zip::CompressionMethod::Stored
                };
                let options = zip::write::SimpleFileOptions::default().compression_method(method);
                let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
                writer.start_file(member, options).expect("writes to memory");
                writer.write_all(bytes).expect("writes to memory");
                writer.finish().expect("writes to memory").into_inner()
            }
            Self::Tar => {
                let mut header = tar::Header::new_gnu();
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                let mut builder = tar::Builder::new(Vec::new());
                builder
                    .append_data(&mut header, member, bytes)
                    .expect("writes to memory");
                builder.into_inner().expect("writes to memory")
            }
        }
    }
}

/// Harm done to a built container at a chosen position.
#[derive(Clone, Copy, Debug)]
pub enum Damage {
    None,
    /// Ends the bytes there.
    Truncate,
    /// Inverts one byte there.
    Flip,
    /// Removes the 16 bytes from there.
    Drop,
}

/// Bytes removed by [`Damage::Drop`].
const DROPPED: usize = 16;

impl Damage {
    /// Two bits: 0 none, 1 truncate, 2 flip, 3 drop.
    pub fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            1 => Self::Truncate,
            2 => Self::Flip,
            3 => Self::Drop,
            _ => Self::None,
        }
    }

    /// Applies the damage at `at` (0..=65535 scaled to the length of `bytes`).
    pub fn apply(self, bytes: &mut Vec<u8>, at: u16) {
        let position = bytes.len() * usize::from(at) / 65536;
        match self {
            Self::None => {}
            Self::Truncate => bytes.truncate(position),
            Self::Flip => {
                if let Some(byte) = bytes.get_mut(position) {
                    *byte = !*byte;
                }
            }
            Self::Drop => {
                let end = (position + DROPPED).min(bytes.len());
                bytes.drain(position..end);
            }
        }
    }
}

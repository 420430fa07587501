//! The `--hlog` file: an HdrHistogram interval log, one interval per
//! second of the measured part, written as each second completes (HdrHistogram's
//! own V2 serializer and log writer, so its tools read it).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriter, IntervalLogWriterBuilder};

use crate::metrics::{IntervalSink, IntervalWriter, Latency};

/// An interval log to be written into an open file.
pub struct HlogFile {
    file: File,
    /// When the run started: the log's start and base time.
    started_at: SystemTime,
}

impl HlogFile {
    pub fn new(file: File, started_at: SystemTime) -> HlogFile {
        HlogFile { file, started_at }
    }
}

struct Log<'a, 'b, W: Write>(IntervalLogWriter<'a, 'b, W, V2DeflateSerializer>);

impl<W: Write> IntervalWriter for Log<'_, '_, W> {
    fn write(&mut self, second: u64, h: &Latency) -> Result<(), String> {
        self.0
            .write_histogram(h, Duration::from_secs(second), Duration::from_secs(1), None)
            .map_err(|e| format!("{e:?}"))
    }
}

impl IntervalSink for HlogFile {
    fn run(
        self: Box<Self>,
        collect: &mut dyn FnMut(Option<&mut dyn IntervalWriter>),
    ) -> Result<(), String> {
        let mut out = BufWriter::new(self.file);
        let mut serializer = V2DeflateSerializer::new();
        let log = IntervalLogWriterBuilder::new()
            .add_comment(concat!(
                "mcload ",
                env!("CARGO_PKG_VERSION"),
                ": latency from the intended start, in microseconds, one interval per second"
            ))
            .with_start_time(self.started_at)
            .with_base_time(self.started_at)
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut out, &mut serializer);
        match log {
            Ok(log) => collect(Some(&mut Log(log))),
            Err(e) => {
                collect(None);
                return Err(e.to_string());
            }
        }
        out.flush().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::new_latency;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    #[test]
    fn the_interval_log_reads_back_to_the_histograms_written() {
        let dir = std::env::temp_dir().join(format!("mcload-hlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("unit.hlog");
        let sink = Box::new(HlogFile::new(
            File::create(&path).unwrap(),
            SystemTime::now(),
        ));
        let mut written = Vec::new();
        for second in 0..3u64 {
            let mut h = new_latency();
            for i in 0..1_000 {
                h.record(1 + i * (second + 1)).unwrap();
            }
            written.push(h);
        }
        sink.run(&mut |writer| {
            let writer = writer.expect("the log opens");
            for (second, h) in written.iter().enumerate() {
                writer.write(second as u64, h).unwrap();
            }
        })
        .unwrap();
        let text = std::fs::read(&path).unwrap();
        assert!(text.starts_with(b"#mcload "), "the comment comes first");
        let mut deserializer = Deserializer::new();
        let mut read = Vec::new();
        for entry in IntervalLogIterator::new(&text) {
            if let LogEntry::Interval(i) = entry.unwrap() {
                let bytes = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    i.encoded_histogram(),
                )
                .unwrap();
                assert_eq!(i.start_timestamp().as_secs(), read.len() as u64);
                let h: Latency = deserializer.deserialize(&mut bytes.as_slice()).unwrap();
                read.push(h);
            }
        }
        assert_eq!(read, written);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

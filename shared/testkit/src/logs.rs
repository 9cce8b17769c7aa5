//! `LogCapture`: every log line of a test process, for tests about what is (not) logged.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Every log line of the test process, captured: install it before anything else logs.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Installs a subscriber at `filter` (e.g. `"debug"`) that writes here, without colours.
    pub fn install(filter: &str) -> Self {
        let capture = Self::default();
        let writer = capture.clone();
        tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(move || writer.clone()).init();
        capture
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("unwrap: no panics while the lock is held")).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("unwrap: no panics while the lock is held").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

//! Command-line flags, `--name value`: parsed once, then each command takes the ones it knows
//! (with their defaults) and refuses the rest.

use anyhow::Context as _;
use std::collections::HashMap;

pub struct Flags(HashMap<String, String>);

impl Flags {
    pub fn parse(args: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut flags = HashMap::new();
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let name = arg.strip_prefix("--").with_context(|| format!("unexpected argument {arg:?}"))?;
            flags.insert(name.to_owned(), args.next().with_context(|| format!("{arg} needs a value"))?);
        }
        Ok(Self(flags))
    }

    /// `--name`'s value, or `default` when it was not given.
    pub fn get<T: std::str::FromStr>(&mut self, name: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match self.0.remove(name) {
            Some(value) => value.parse().map_err(|e| anyhow::anyhow!("--{name}: {e}")),
            None => Ok(default),
        }
    }

    /// Every flag given was taken: a misspelt one is an error, not a silent default.
    pub fn done(self) -> anyhow::Result<()> {
        anyhow::ensure!(self.0.is_empty(), "unknown flags: {:?}", self.0.keys().collect::<Vec<_>>());
        Ok(())
    }
}

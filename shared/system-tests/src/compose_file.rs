//! Reading `compose/` YAML as compose does, for the tests that check the compose files.

use std::collections::BTreeMap;
use yaml_rust2::Yaml;

/// A mapping with YAML merge keys (`<<: *anchor`) applied, as compose applies them.
pub fn merged(node: &Yaml) -> BTreeMap<String, Yaml> {
    let mut out = BTreeMap::new();
    if let Some(hash) = node.as_hash() {
        if let Some(base) = hash.get(&Yaml::String("<<".into())) {
            out.extend(merged(base));
        }
        for (key, value) in hash {
            if let Some(key) = key.as_str().filter(|k| *k != "<<") {
                out.insert(key.to_owned(), value.clone());
            }
        }
    }
    out
}

//! The one-way layering of `src/` (ARCHITECTURE.md, "Layers"): each top-level module imports
//! only modules of layers below its own. The table is read from ARCHITECTURE.md itself, so the
//! layering is written once; a module missing from it fails here too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each module's layer, from the table's rows: `| N | `a`, `b` | job |`.
fn layers() -> BTreeMap<String, u32> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md");
    let mut out = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, layer, modules, ..] = cells.as_slice() else {
            continue;
        };
        let Ok(layer) = layer.parse::<u32>() else {
            continue;
        };
        for module in modules.split(',') {
            let module = module.trim().trim_matches('`');
            assert!(
                out.insert(module.to_owned(), layer).is_none(),
                "{module} is in two layers"
            );
        }
    }
    assert!(out.len() > 10, "no layer table found in ARCHITECTURE.md");
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names through `crate::`: `crate::a::…`, and each `b` of a
/// `use crate::{b, c::…}` group.
fn imports(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find(';').unwrap_or(group.len())];
            // The group's top-level items: split at the commas outside inner braces.
            let mut depth = 0;
            let mut item_start = 0;
            let mut items = Vec::new();
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        items.push(&group[item_start..i]);
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&group[item_start..i]);
                        item_start = i + 1;
                    }
                    _ => {}
                }
            }
            for item in items {
                let name: String = item
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn every_module_imports_only_layers_below_its_own() {
    let layers = layers();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut broken = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        // The crate root and the binary name every module.
        if top == "lib" || top == "main" {
            continue;
        }
        let Some(&own) = layers.get(&top) else {
            broken.push(format!("src/{top}: not in ARCHITECTURE.md's layer table"));
            continue;
        };
        let code = std::fs::read_to_string(&file).unwrap();
        for name in imports(&code) {
            if name == top {
                continue;
            }
            match layers.get(&name) {
                Some(&layer) if layer < own => {}
                Some(&layer) => broken.push(format!(
                    "{}: {top} (layer {own}) imports {name} (layer {layer})",
                    relative.display()
                )),
                // `crate::` followed by something that is not a module (a macro's path).
                None => {}
            }
        }
    }
    broken.sort();
    broken.dedup();
    assert!(
        broken.is_empty(),
        "imports against the layering (a module imports only layers below its own):\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_import_reader_sees_groups_and_paths() {
    let code = "use crate::{a, b::{c, d}, e::f};\nfn x() { crate::g::h(); }";
    assert_eq!(imports(code), ["a", "b", "e", "g"]);
}

//! The recipes in tls-client-builder's README are the code these crates compile and test: every
//! recipe (the code between `// recipe` and `// end recipe` in `src/with_*.rs`) appears verbatim
//! in one of the README's `rust,ignore` blocks, and every such block holds one.
#![allow(clippy::unwrap_used)]

use std::path::Path;

const README: &str = include_str!("../../tls-client-builder/README.md");

fn recipes() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut recipes = Vec::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("with_") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let start = text.find("// recipe\n").unwrap() + "// recipe\n".len();
        let end = text.find("// end recipe").unwrap();
        recipes.push((name, text[start..end].to_owned()));
    }
    assert_eq!(recipes.len(), 7, "one recipe per client");
    recipes
}

/// The README's code blocks fenced as `rust,ignore`.
fn ignored_blocks() -> Vec<&'static str> {
    README
        .split("```rust,ignore\n")
        .skip(1)
        .map(|rest| &rest[..rest.find("```").unwrap()])
        .collect()
}

#[test]
fn every_recipe_is_in_the_readme_verbatim() {
    let blocks = ignored_blocks();
    for (file, recipe) in recipes() {
        assert!(
            blocks.iter().any(|block| block.contains(&recipe)),
            "the recipe of src/{file} is not in the README as it is:\n{recipe}"
        );
    }
}

#[test]
fn every_untested_readme_block_is_a_recipe() {
    let recipes = recipes();
    for block in ignored_blocks() {
        assert!(
            recipes.iter().any(|(_, recipe)| block.contains(recipe)),
            "a `rust,ignore` block of the README is no recipe of client-recipes:\n{block}"
        );
    }
}

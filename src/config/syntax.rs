//! The TOML syntax of `orchestra.toml`, checked before figment reads it, so that a file that
//! does not parse (a duplicate key, an unclosed string) is named as `FILE:LINE:COL: what`,
//! the form an editor jumps to. Knows nothing of the fields.

/// `Ok` when `text` parses as TOML; else `FILE:LINE:COL: message`, `file` as given.
pub fn check(file: &str, text: &str) -> Result<(), String> {
    let Err(error) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let message = error.message().trim_end();
    Err(match error.span() {
        Some(span) => {
            let (line, column) = line_and_column(text, span.start);
            format!("{file}:{line}:{column}: {message}")
        }
        None => format!("{file}: {message}"),
    })
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_key_is_named_at_its_line_and_column() {
        let text = "[gcp]\nproject = \"a\"\n  project = \"b\"\n";
        let err = check("orchestra.toml", text).unwrap_err();
        assert!(
            err.starts_with("orchestra.toml:3:3: duplicate key `project`"),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_parses_passes_and_columns_count_characters() {
        assert_eq!(check("f", "[a]\nb = 1\n"), Ok(()));
        assert_eq!(line_and_column("é = \nx", 4), (1, 4));
        assert_eq!(line_and_column("a\nb", 2), (2, 1));
    }
}

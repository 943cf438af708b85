//! A small line diff for readable "file is out of date" messages.

/// One line of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// Lines of `text`, keeping whether the last one ends with a newline visible.
fn lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    if text.is_empty() {
        lines.clear();
    }
    lines
}

/// The edit script from `old` to `new` (longest common subsequence; inputs
/// too large for the quadratic table are shown as a whole replacement).
fn edit_script<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<Op<'a>> {
    // Common prefix and suffix first: typical diffs are small.
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old.iter().rev().zip(new.iter().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
    let (a, b) = (&old[prefix..old.len() - suffix], &new[prefix..new.len() - suffix]);

    let mut ops: Vec<Op<'a>> = old[..prefix].iter().map(|l| Op::Same(l)).collect();
    if a.len().saturating_mul(b.len()) > 4_000_000 {
        ops.extend(a.iter().map(|l| Op::Removed(l)));
        ops.extend(b.iter().map(|l| Op::Added(l)));
    } else {
        // lcs[i][j] = LCS length of a[i..] and b[j..]
        let w = b.len() + 1;
        let mut lcs = vec![0u32; (a.len() + 1) * w];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                lcs[i * w + j] = if a[i] == b[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                ops.push(Op::Same(a[i]));
                i += 1;
                j += 1;
            } else if i < a.len() && (j == b.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
                ops.push(Op::Removed(a[i]));
                i += 1;
            } else {
                ops.push(Op::Added(b[j]));
                j += 1;
            }
        }
    }
    ops.extend(old[old.len() - suffix..].iter().map(|l| Op::Same(l)));
    ops
}

/// A unified-style diff of two texts: changed lines prefixed `-` (old) and
/// `+` (new) with three lines of context, `@@ line N @@` headers giving the
/// old line number. Empty when the texts are equal.
pub(crate) fn line_diff(old: &str, new: &str) -> String {
    const CONTEXT: usize = 3;
    let ops = edit_script(&lines(old), &lines(new));
    let changed: Vec<usize> =
        ops.iter().enumerate().filter(|(_, op)| !matches!(op, Op::Same(_))).map(|(i, _)| i).collect();
    let mut out = String::new();
    let mut shown_until = 0; // ops[..shown_until] are printed or skipped
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(CONTEXT).max(shown_until);
        // Extend the hunk while the next change is within 2*CONTEXT lines.
        let mut last = changed[k];
        while k + 1 < changed.len() && changed[k + 1] - last <= 2 * CONTEXT {
            k += 1;
            last = changed[k];
        }
        let end = (last + CONTEXT + 1).min(ops.len());
        let old_line = 1 + ops[..start].iter().filter(|op| !matches!(op, Op::Added(_))).count();
        out.push_str(&format!("@@ line {old_line} @@\n"));
        for op in &ops[start..end] {
            let (mark, line) = match op {
                Op::Same(l) => (' ', l),
                Op::Removed(l) => ('-', l),
                Op::Added(l) => ('+', l),
            };
            out.push(mark);
            match line.strip_suffix('\n') {
                Some(l) => {
                    out.push_str(l);
                    out.push('\n');
                }
                None => {
                    out.push_str(line);
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
        shown_until = end;
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::line_diff;

    #[test]
    fn equal_texts_give_no_diff() {
        assert_eq!(line_diff("a\nb\n", "a\nb\n"), "");
    }

    #[test]
    fn changed_line_shows_removed_and_added_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(line_diff(old, new), "@@ line 2 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
    }

    #[test]
    fn distant_changes_make_separate_hunks() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new: String = (1..=20)
            .map(|i| match i {
                2 => "two\n".to_owned(),
                18 => "eighteen\n".to_owned(),
                _ => format!("{i}\n"),
            })
            .collect();
        let diff = line_diff(&old, &new);
        assert_eq!(diff.matches("@@ line").count(), 2, "{diff}");
        assert!(diff.contains("-2\n+two\n") && diff.contains("-18\n+eighteen\n"), "{diff}");
    }

    #[test]
    fn missing_final_newline_is_marked() {
        assert_eq!(line_diff("a\n", "a"), "@@ line 1 @@\n-a\n+a\n\\ No newline at end of file\n");
    }

    #[test]
    fn insertions_and_deletions_align_on_common_lines() {
        let diff = line_diff("a\nb\nc\n", "a\nx\nc\nd\n");
        assert_eq!(diff, "@@ line 1 @@\n a\n-b\n+x\n c\n+d\n");
    }
}

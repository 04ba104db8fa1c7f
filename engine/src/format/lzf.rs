//! LZF (liblzf) decompression into a caller's reused buffer; the output length is fixed in
//! advance by the RDB string header and anything else is an error.

/// Why an LZF stream was refused, with the input offset where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LzfError {
    /// Offset in the compressed input.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

/// Decompresses `input` into `out` (cleared first), which must end up exactly `expected_len` long.
pub fn decompress(input: &[u8], expected_len: usize, out: &mut Vec<u8>) -> Result<(), LzfError> {
    out.clear();
    out.reserve(expected_len);
    let mut i = 0usize;
    while i < input.len() {
        let ctrl = input[i] as usize;
        let at = i;
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            if i + run > input.len() {
                return Err(LzfError {
                    offset: at,
                    reason: "literal run past end of input",
                });
            }
            if out.len() + run > expected_len {
                return Err(LzfError {
                    offset: at,
                    reason: "literal run past declared length",
                });
            }
            out.extend_from_slice(&input[i..i + run]);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                let Some(&b) = input.get(i) else {
                    return Err(LzfError {
                        offset: at,
                        reason: "back-reference length past end",
                    });
                };
                len += b as usize;
                i += 1;
            }
            let Some(&lo) = input.get(i) else {
                return Err(LzfError {
                    offset: at,
                    reason: "back-reference offset past end",
                });
            };
            i += 1;
            let back = ((ctrl & 0x1f) << 8 | lo as usize) + 1;
            let len = len + 2;
            if back > out.len() {
                return Err(LzfError {
                    offset: at,
                    reason: "back-reference before start of output",
                });
            }
            if out.len() + len > expected_len {
                return Err(LzfError {
                    offset: at,
                    reason: "back-reference past declared length",
                });
            }
            let start = out.len() - back;
            if back >= len {
                out.extend_from_within(start..start + len);
            } else {
                // Overlapping copy: each byte may depend on one just written.
                for k in 0..len {
                    let b = out[start + k];
                    out.push(b);
                }
            }
        }
    }
    if out.len() != expected_len {
        return Err(LzfError {
            offset: input.len(),
            reason: "output shorter than declared length",
        });
    }
    Ok(())
}

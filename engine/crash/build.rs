//! Compiles `preload/recorder.rs` into the LD_PRELOAD library that `src/recorder.rs` embeds.
//! The library is built by invoking `$RUSTC` directly: it is a `no_std` cdylib with its own flags.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src = "preload/recorder.rs";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rustc-check-cfg=cfg(recorder_unsupported)");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let so = out.join("librecorder.so");
    let target = env::var("TARGET").expect("cargo sets TARGET");
    // The recorder speaks x86_64 Linux syscall numbers and glibc's struct layouts.
    if target != "x86_64-unknown-linux-gnu" {
        std::fs::write(&so, b"").expect("write placeholder");
        println!("cargo:rustc-cfg=recorder_unsupported");
        return;
    }
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let status = Command::new(rustc)
        .args([
            "--crate-type",
            "cdylib",
            "--crate-name",
            "recorder",
            "--edition",
            "2021",
        ])
        .args([
            "-C",
            "panic=abort",
            "-C",
            "opt-level=2",
            "-C",
            "strip=debuginfo",
        ])
        .args(["--target", &target, "-o"])
        .arg(&so)
        .arg(src)
        .status()
        .expect("run rustc for the recorder");
    assert!(status.success(), "compiling {src} failed");
}

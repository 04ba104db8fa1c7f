//! LD_PRELOAD recorder: appends one record per file-system operation under `$REDIS_PERSIST_DIR` to
//! `$REDIS_PERSIST_TRACE`, in one total order; changes no call's result or errno, except the one
//! write a driver asks to fail (`$REDIS_PERSIST_FAULT`) and the stop it asks for.
//!
//! The record layout is owned by `src/trace.rs` (48-byte little-endian header, then payload); the
//! constants below must match it. x86_64 Linux with glibc only: raw syscall numbers, `struct stat`
//! and `FILE` offsets are that ABI's. This is the one file of the project where `unsafe` is allowed:
//! every block says why it is sound.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
// The exports are C entry points taking C's raw pointers; they pass them to the kernel (which
// checks them) or to glibc, with the very contract the caller already has with libc.
#![allow(clippy::missing_safety_doc, clippy::not_unsafe_ptr_arg_deref)]

use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_long, c_void};
use core::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize, Ordering::*};

#[link(name = "c")]
extern "C" {
    fn syscall(n: c_long, ...) -> c_long;
    fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
    fn getenv(name: *const c_char) -> *const c_char;
    fn __errno_location() -> *mut c_int;
    fn fileno(f: *mut c_void) -> c_int;
    fn abort() -> !;
    fn pthread_mutexattr_init(a: *mut u64) -> c_int;
    fn pthread_mutexattr_setpshared(a: *mut u64, v: c_int) -> c_int;
    fn pthread_mutexattr_setrobust(a: *mut u64, v: c_int) -> c_int;
    fn pthread_mutexattr_settype(a: *mut u64, v: c_int) -> c_int;
    fn pthread_mutex_init(m: *mut u64, a: *const u64) -> c_int;
    fn pthread_mutex_lock(m: *mut u64) -> c_int;
    fn pthread_mutex_unlock(m: *mut u64) -> c_int;
    fn pthread_mutex_consistent(m: *mut u64) -> c_int;
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: abort() takes no arguments and never returns; nothing in this file is meant to panic.
    unsafe { abort() }
}

/// `core` is prebuilt with unwinding tables that name this symbol; with panic=abort it is never
/// called, but the loader must still find it.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// Declares constants compactly (one macro call per group; rustfmt leaves it as written).
macro_rules! consts {
    ($t:ty: $($name:ident = $v:expr),* $(,)?) => { $(const $name: $t = $v;)* };
}
// x86_64 syscall numbers.
consts! { c_long: SYS_WRITE = 1, SYS_CLOSE = 3, SYS_FSTAT = 5, SYS_LSEEK = 8, SYS_MMAP = 9,
SYS_PREAD = 17, SYS_PWRITE = 18, SYS_WRITEV = 20, SYS_DUP = 32, SYS_DUP2 = 33, SYS_GETPID = 39,
SYS_FCNTL = 72, SYS_FSYNC = 74, SYS_FDATASYNC = 75, SYS_TRUNCATE = 76, SYS_FTRUNCATE = 77,
SYS_GETCWD = 79, SYS_RENAME = 82, SYS_MKDIR = 83, SYS_RMDIR = 84, SYS_UNLINK = 87,
SYS_KILL = 62, SYS_READLINK = 89, SYS_GETPPID = 110, SYS_SYNC = 162, SYS_OPENAT = 257, SYS_MKDIRAT = 258,
SYS_UNLINKAT = 263, SYS_RENAMEAT = 264, SYS_SYNC_FILE_RANGE = 277, SYS_DUP3 = 292,
SYS_SYNCFS = 306, SYS_RENAMEAT2 = 316, F_DUPFD_CLOEXEC = 1030, SIGSTOP = 19 }
consts! { c_int: AT_FDCWD = -100, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_TRUNC = 0o1000,
O_APPEND = 0o2000, O_CLOEXEC = 0o2000000, O_TMPFILE = 0o20000000, EFAULT = 14, EDEADLK = 35,
EOWNERDEAD = 130, ENOSPC = 28 }
// Record kinds, sync sub-kinds and LOST reasons: see src/trace.rs.
consts! { u8: K_START = 1, K_OPEN = 2, K_CLOSE = 3, K_WRITE = 4, K_TRUNCATE = 5, K_SYNC_BEGIN = 6,
K_SYNC_END = 7, K_RENAME = 8, K_UNLINK = 9, K_MKDIR = 10, K_LOST = 13, SYNC_FSYNC = 1,
SYNC_FDATASYNC = 2, SYNC_RANGE = 3, SYNC_FS = 4, SYNC_ALL = 5 }
consts! { u64: LOST_FD_RANGE = 1, LOST_REENTRANT = 2, LOST_OWNER_DIED = 3, AT_REMOVEDIR = 0x200 }
const MAGIC: &[u8; 8] = b"RPTRACE1";
const HEADER: usize = 48;

// Kinds of tracked descriptors (low bits) and the stdio flag.
consts! { u8: FD_FILE = 1, FD_DIR = 2, FD_STDIO = 4 }
/// Descriptors at or above this are not tracked (a LOST record says so).
const NFD: usize = 65536;
const PATH: usize = 4096;

/// Per-descriptor state, process-local: a fork copies it exactly as the kernel copies descriptors.
static INO: [AtomicU64; NFD] = [const { AtomicU64::new(0) }; NFD];
static KIND: [AtomicU8; NFD] = [const { AtomicU8::new(0) }; NFD];
/// For stdio files: how many bytes from offset 0 the trace already holds (captured from the file).
static CAPT: [AtomicU64; NFD] = [const { AtomicU64::new(0) }; NFD];
static MAX_FD: AtomicUsize = AtomicUsize::new(0);

/// 0 new, 1 initialising, 2 recording, 3 disabled (no environment).
static STATE: AtomicU8 = AtomicU8::new(0);
static TRACE_FD: AtomicI32 = AtomicI32::new(-1);
static SHARED: AtomicPtr<Shared> = AtomicPtr::new(core::ptr::null_mut());
static STDIO: [AtomicUsize; 6] = [const { AtomicUsize::new(0) }; 6];
consts! { usize: FOPEN = 0, FWRITE = 1, FPUTS = 2, FPUTC = 3, FFLUSH = 4, FCLOSE = 5 }
const STDIO_NAMES: [&[u8]; 6] =
    [b"fopen\0", b"fwrite\0", b"fputs\0", b"fputc\0", b"fflush\0", b"fclose\0"];

/// Lives in a MAP_SHARED anonymous page made at load time, so the main process, its threads and
/// every forked child serialise on the same robust mutex (a holder that dies releases it).
#[repr(C)]
struct Shared {
    mutex: UnsafeCell<[u64; 8]>,
    token: AtomicU64,
    /// Completed flushes recorded so far (what the driver counts in the trace: END records with
    /// result 0, sync_file_range excepted), for the stop file.
    flushes: AtomicU64,
    dir_len: usize,
    dir: [u8; 3072],
    /// `$REDIS_PERSIST_STOP`, NUL-terminated (empty: no stop file).
    stop: [u8; 1024],
    /// `$REDIS_PERSIST_FAULT` and that path with `.fired` appended, NUL-terminated.
    fault: [u8; 1024],
    fired: [u8; 1030],
}

/// Buffer for copying a stdio file's new bytes; used only while holding the lock.
struct CapBuf(UnsafeCell<[u8; 65536]>);
// SAFETY: accessed only under the process-shared mutex, which also excludes same-thread re-entry.
unsafe impl Sync for CapBuf {}
static CAPBUF: CapBuf = CapBuf(UnsafeCell::new([0; 65536]));

#[used]
#[link_section = ".init_array"]
static INIT_ARRAY: extern "C" fn() = ctor;
extern "C" fn ctor() {
    ready();
}

/// Up to four syscall arguments, each cast to a register-sized word (signed values sign-extend).
macro_rules! a {
    ($($x:expr),*) => {{
        #[allow(unused_mut)]
        let mut v = [0usize; 4];
        let mut _i = 0;
        $( v[_i] = $x as usize; _i += 1; )*
        v
    }};
}

fn sys(n: c_long, a: [usize; 4]) -> c_long {
    // SAFETY: a raw system call. The kernel checks every pointer argument (EFAULT); the only
    // buffers it fills are ones the caller owns and passed with their length.
    unsafe { syscall(n, a[0], a[1], a[2], a[3]) }
}
fn errno() -> c_int {
    // SAFETY: __errno_location returns this thread's errno slot, valid for the thread's life.
    unsafe { *__errno_location() }
}
fn set_errno(e: c_int) {
    // SAFETY: as in errno().
    unsafe { *__errno_location() = e }
}
fn result(r: c_long, e: c_int) -> i64 {
    if r < 0 {
        -i64::from(e)
    } else {
        r
    }
}
fn stat(fd: c_int) -> Option<(u64, u32, u64)> {
    let mut st = [0u64; 18]; // struct stat is 144 bytes on x86_64
    if sys(SYS_FSTAT, [fd as usize, st.as_mut_ptr() as usize, 0, 0]) < 0 {
        return None;
    }
    Some((st[1], st[3] as u32, st[6])) // st_ino, st_mode, st_size
}

/// True once the recorder is set up; sets it up on first use (constructor order is not ours).
fn ready() -> bool {
    match STATE.compare_exchange(0, 1, AcqRel, Acquire) {
        Ok(_) => {
            let ok = init();
            STATE.store(if ok { 2 } else { 3 }, Release);
            ok
        }
        Err(s) => s == 2,
    }
}

fn init() -> bool {
    // SAFETY: getenv is called with NUL-terminated literals; results are NUL-terminated or null.
    let (trace, dir) =
        unsafe { (getenv(c"REDIS_PERSIST_TRACE".as_ptr()), getenv(c"REDIS_PERSIST_DIR".as_ptr())) };
    // SAFETY: as above.
    let stop = unsafe { getenv(c"REDIS_PERSIST_STOP".as_ptr()) };
    // SAFETY: as above.
    let fault = unsafe { getenv(c"REDIS_PERSIST_FAULT".as_ptr()) };
    if trace.is_null() || dir.is_null() {
        return false;
    }
    let flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC;
    let fd = sys(SYS_OPENAT, [AT_FDCWD as usize, trace as usize, flags as usize, 0o644]);
    if fd < 0 {
        return false;
    }
    // Move the trace out of the low descriptors the server would otherwise get.
    let high = sys(SYS_FCNTL, [fd as usize, F_DUPFD_CLOEXEC as usize, 700, 0]);
    let fd = if high >= 0 {
        sys(SYS_CLOSE, [fd as usize, 0, 0, 0]);
        high
    } else {
        fd
    } as c_int;
    // SAFETY: six-argument mmap (MAP_SHARED|MAP_ANONYMOUS, read-write) of a fresh region.
    let page = unsafe {
        syscall(
            SYS_MMAP,
            0 as c_long,
            16384 as c_long,
            3 as c_long,
            0x21 as c_long,
            -1 as c_long,
            0 as c_long,
        )
    };
    if page < 0 {
        return false;
    }
    let sh = page as *mut Shared;
    let mut dirbuf = [0u8; PATH];
    let n = cstr(dir, &mut dirbuf).map(|n| normalize(&mut dirbuf, n));
    let mut attr = 0u64;
    // SAFETY: `sh` points at a fresh zeroed 16 KiB mapping, larger than Shared and page-aligned;
    // nothing else can see it yet. The attribute and mutex calls get valid, aligned pointers.
    unsafe {
        let Some(n) = n.filter(|&n| n <= (*sh).dir.len() && dirbuf[0] == b'/') else {
            return false;
        };
        (&mut (*sh).dir)[..n].copy_from_slice(&dirbuf[..n]);
        (*sh).dir_len = n;
        let mut envbuf = [0u8; PATH];
        if !stop.is_null() {
            match cstr(stop, &mut envbuf) {
                Some(k) if k < (*sh).stop.len() => (&mut (*sh).stop)[..k].copy_from_slice(&envbuf[..k]),
                _ => return false,
            }
        }
        if !fault.is_null() {
            match cstr(fault, &mut envbuf) {
                Some(k) if k < (*sh).fault.len() => {
                    (&mut (*sh).fault)[..k].copy_from_slice(&envbuf[..k]);
                    (&mut (*sh).fired)[..k].copy_from_slice(&envbuf[..k]);
                    (&mut (*sh).fired)[k..k + 6].copy_from_slice(b".fired");
                }
                _ => return false,
            }
        }
        pthread_mutexattr_init(&mut attr);
        pthread_mutexattr_setpshared(&mut attr, 1);
        pthread_mutexattr_setrobust(&mut attr, 1);
        pthread_mutexattr_settype(&mut attr, 2); // error-checking: re-entry gives EDEADLK
        if pthread_mutex_init((*sh).mutex.get().cast(), &attr) != 0 {
            return false;
        }
    }
    for (i, name) in STDIO_NAMES.iter().enumerate() {
        // SAFETY: RTLD_NEXT (-1) and a NUL-terminated name; the result is a function or null.
        let f = unsafe { dlsym(usize::MAX as *mut c_void, name.as_ptr().cast()) };
        STDIO[i].store(f as usize, Relaxed);
    }
    TRACE_FD.store(fd, Relaxed);
    SHARED.store(sh, Release);
    if stat(fd).is_some_and(|s| s.2 == 0) {
        write_all(&[Iov(MAGIC.as_ptr(), 8)]);
    }
    let ppid = sys(SYS_GETPPID, [0; 4]) as u64;
    // SAFETY: the dir bytes were written above and are never written again.
    let d = unsafe { &(&(*sh).dir)[..n.unwrap_or(0)] };
    emit(K_START, 0, 0, [ppid, 0, 0], &[Iov(d.as_ptr(), d.len())]);
    true
}

fn shared() -> &'static Shared {
    // SAFETY: only called after ready() returned true, so SHARED holds the mapping made in init,
    // which is never unmapped; its fields other than the mutex and token are read-only by then.
    unsafe { &*SHARED.load(Acquire) }
}

enum Lock {
    Held,
    NotReady,
    Reentrant,
}
fn lock() -> Lock {
    if !ready() {
        return Lock::NotReady;
    }
    // SAFETY: the mutex was initialised in init() and lives in the shared mapping.
    match unsafe { pthread_mutex_lock(shared().mutex.get().cast()) } {
        0 => Lock::Held,
        EOWNERDEAD => {
            // SAFETY: we now own the mutex whose previous holder died; mark it usable again.
            unsafe { pthread_mutex_consistent(shared().mutex.get().cast()) };
            emit(K_LOST, 0, 0, [LOST_OWNER_DIED, 0, 0], &[]);
            Lock::Held
        }
        EDEADLK => Lock::Reentrant,
        _ => Lock::NotReady,
    }
}
fn unlock() {
    // SAFETY: called only after lock() returned Held on this thread.
    unsafe { pthread_mutex_unlock(shared().mutex.get().cast()) };
}

/// A `struct iovec`: base and length.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Iov(*const u8, usize);

/// Appends bytes to the trace in one writev; records stay whole because every writer holds the
/// lock (a rare short write is finished part by part, still under it).
fn write_all(parts: &[Iov]) {
    let fd = TRACE_FD.load(Relaxed) as usize;
    let mut done = sys(SYS_WRITEV, a!(fd, parts.as_ptr(), parts.len())).max(0) as usize;
    for v in parts {
        let mut off = done.min(v.1);
        done -= off;
        while off < v.1 {
            let r = sys(SYS_WRITE, a!(fd, v.0 as usize + off, v.1 - off));
            if r <= 0 {
                return;
            }
            off += r as usize;
        }
    }
}

fn emit(kind: u8, sub: u8, ret: i64, abc: [u64; 3], payload: &[Iov]) {
    let len = HEADER + payload.iter().map(|p| p.1).sum::<usize>();
    let mut h = [0u8; HEADER];
    h[0..4].copy_from_slice(&(len as u32).to_le_bytes());
    h[4] = kind;
    h[5] = sub;
    h[8..12].copy_from_slice(&(sys(SYS_GETPID, [0; 4]) as u32).to_le_bytes());
    h[16..24].copy_from_slice(&ret.to_le_bytes());
    for (i, v) in abc.iter().enumerate() {
        h[24 + 8 * i..32 + 8 * i].copy_from_slice(&v.to_le_bytes());
    }
    let mut parts = [Iov(h.as_ptr(), HEADER); 4];
    let k = payload.len().min(3);
    parts[1..1 + k].copy_from_slice(&payload[..k]);
    write_all(&parts[..1 + k]);
}

/// Writes of data, split so that every record's length fits its u32 field.
fn emit_data(sub: u8, ret: i64, ino: u64, off: u64, ptr: *const u8, n: usize) {
    let mut done = 0;
    loop {
        let k = (n - done).min(1 << 30);
        emit(K_WRITE, sub, ret, [ino, off + done as u64, 0], &[Iov(ptr.wrapping_add(done), k)]);
        done += k;
        if done >= n {
            break;
        }
    }
}

fn tracked(fd: c_int) -> Option<(u64, u8)> {
    let i = usize::try_from(fd).ok().filter(|&i| i < NFD)?;
    let ino = INO[i].load(Relaxed);
    (ino != 0).then(|| (ino, KIND[i].load(Relaxed)))
}
fn untrack(fd: c_int) {
    if let Some(i) = usize::try_from(fd).ok().filter(|&i| i < NFD) {
        INO[i].store(0, Relaxed);
        KIND[i].store(0, Relaxed);
    }
}
/// Starts tracking a fresh descriptor of a regular file or directory: (ino, kind, size).
fn track(fd: c_int, stdio: bool) -> (u64, u8, u64) {
    let Some((ino, mode, size)) = stat(fd) else {
        return (0, 0, 0);
    };
    let kind = match mode & 0o170000 {
        0o100000 => FD_FILE | if stdio { FD_STDIO } else { 0 },
        0o040000 => FD_DIR,
        _ => return (ino, 0, size),
    };
    match usize::try_from(fd).ok().filter(|&i| i < NFD) {
        Some(i) => {
            INO[i].store(ino, Relaxed);
            KIND[i].store(kind, Relaxed);
            CAPT[i].store(size, Relaxed);
            MAX_FD.fetch_max(i, Relaxed);
        }
        None => emit(K_LOST, 0, 0, [LOST_FD_RANGE, fd as u64, 0], &[]),
    }
    (ino, kind, size)
}

/// Opens a read-only descriptor on the file behind `fd` (a stdio stream's own may be write-only).
fn reader(fd: c_int) -> c_int {
    let mut path = *b"/proc/self/fd/\0\0\0\0\0\0\0\0\0\0\0";
    fd_name(&mut path, fd);
    sys(SYS_OPENAT, a!(AT_FDCWD as isize, path.as_ptr(), O_CLOEXEC)) as c_int
}

/// Writes the decimal `n` after "/proc/self/fd/" in `path`.
fn fd_name(path: &mut [u8; 25], n: c_int) {
    let (mut d, mut digits, mut k) = (n as u32, [0u8; 10], 0);
    loop {
        digits[k] = b'0' + (d % 10) as u8;
        (k, d) = (k + 1, d / 10);
        if d == 0 {
            break;
        }
    }
    for j in 0..k {
        path[14 + j] = digits[k - 1 - j];
    }
}

/// Records the bytes a stdio stream has pushed into its file since the last capture, read back
/// from the file (glibc's buffered writes reach the kernel through a write we cannot interpose).
/// `rd` is a readable descriptor on the file, or -1 to open one.
fn capture(fd: c_int, rd: c_int) {
    let Some((ino, _)) = tracked(fd).filter(|t| t.1 & FD_STDIO != 0) else {
        return;
    };
    let own = rd < 0;
    let rd = if own { reader(fd) } else { rd };
    let slot = &CAPT[fd as usize];
    let mut at = slot.load(Relaxed);
    let size = stat(rd).map_or(at, |s| s.2);
    let buf = CAPBUF.0.get() as *mut u8;
    while at < size {
        let want = ((size - at) as usize).min(65536);
        let r = sys(SYS_PREAD, [rd as usize, buf as usize, want, at as usize]);
        if r <= 0 {
            break;
        }
        emit_data(1, r as i64, ino, at, buf, r as usize);
        at += r as u64;
    }
    slot.store(at.min(size), Relaxed);
    if own && rd >= 0 {
        sys(SYS_CLOSE, a!(rd));
    }
}

/// Copies a C string into `out`; None when null or too long.
fn cstr(p: *const c_char, out: &mut [u8; PATH]) -> Option<usize> {
    if p.is_null() {
        return None;
    }
    for (i, slot) in out.iter_mut().enumerate() {
        // SAFETY: the caller's call already succeeded or failed without EFAULT on this string,
        // so it is readable up to its NUL, which we stop at.
        let c = unsafe { *p.add(i) } as u8;
        if c == 0 {
            return Some(i);
        }
        *slot = c;
    }
    None
}

/// Lexically normalises the absolute path in `b[..n]` in place ("." , ".." and "//" removed).
fn normalize(b: &mut [u8; PATH], n: usize) -> usize {
    let (mut w, mut r) = (0, 0);
    while r < n {
        while r < n && b[r] == b'/' {
            r += 1;
        }
        let s = r;
        while r < n && b[r] != b'/' {
            r += 1;
        }
        match &b[s..r] {
            b"" | b"." => {}
            b".." => {
                while w > 0 && b[w - 1] != b'/' {
                    w -= 1;
                }
                w = w.saturating_sub(1);
            }
            _ => {
                b[w] = b'/';
                b.copy_within(s..r, w + 1);
                w += 1 + r - s;
            }
        }
    }
    if w == 0 {
        b[0] = b'/';
        w = 1;
    }
    w
}

enum Where {
    Inside(usize),
    Outside(usize),
}
/// Resolves `p` against `dirfd` (or the working directory) and tells whether it is under the
/// recorded dir: Inside(n) leaves the relative path in out[..n], Outside(n) the absolute one.
fn resolve(dirfd: c_int, p: *const c_char, out: &mut [u8; PATH]) -> Option<Where> {
    let mut raw = [0u8; PATH];
    let rn = cstr(p, &mut raw)?;
    let mut n = 0;
    if raw.first() != Some(&b'/') {
        let r = if dirfd == AT_FDCWD {
            sys(SYS_GETCWD, [out.as_mut_ptr() as usize, PATH, 0, 0]) - 1
        } else {
            let mut link = *b"/proc/self/fd/\0\0\0\0\0\0\0\0\0\0\0";
            fd_name(&mut link, dirfd);
            sys(SYS_READLINK, [link.as_ptr() as usize, out.as_mut_ptr() as usize, PATH, 0])
        };
        if r <= 0 {
            return None;
        }
        n = r as usize;
        *out.get_mut(n)? = b'/';
        n += 1;
    }
    out.get_mut(n..n + rn)?.copy_from_slice(&raw[..rn]);
    let n = normalize(out, n + rn);
    let sh = shared();
    let dir = &sh.dir[..sh.dir_len];
    let d = dir.len();
    if dir == b"/" {
        out.copy_within(1..n, 0);
        Some(Where::Inside(n - 1))
    } else if &out[..n] == dir {
        Some(Where::Inside(0))
    } else if n > d && &out[..d] == dir && out[d] == b'/' {
        out.copy_within(d + 1..n, 0);
        Some(Where::Inside(n - d - 1))
    } else {
        Some(Where::Outside(n))
    }
}

/// Runs a path-based operation under the lock and records it when a path is under the dir.
/// `record` gets the result, errno and the resolved paths.
fn path_op(
    paths: [(c_int, *const c_char); 2],
    op: impl FnOnce() -> c_long,
    record: impl FnOnce(i64, [&[u8]; 2]),
) -> c_long {
    let held = lock();
    if !matches!(held, Lock::Held) {
        let r = op();
        if matches!(held, Lock::Reentrant) {
            let e = errno();
            let mut b = [0u8; PATH];
            if e != EFAULT
                && matches!(resolve(paths[0].0, paths[0].1, &mut b), Some(Where::Inside(_)))
            {
                emit(K_LOST, 0, 0, [LOST_REENTRANT, 0, 0], &[]);
            }
            set_errno(e);
        }
        return r;
    }
    let r = op();
    let e = errno();
    if e != EFAULT || r >= 0 {
        let (mut b0, mut b1) = ([0u8; PATH], [0u8; PATH]);
        let w0 = resolve(paths[0].0, paths[0].1, &mut b0);
        let w1 = if paths[1].1.is_null() { None } else { resolve(paths[1].0, paths[1].1, &mut b1) };
        let inside = |w: &Option<Where>| matches!(w, Some(Where::Inside(_)));
        if inside(&w0) || inside(&w1) {
            let len = |w: Option<Where>| match w {
                Some(Where::Inside(n) | Where::Outside(n)) => n,
                None => 0,
            };
            record(result(r, e), [&b0[..len(w0)], &b1[..len(w1)]]);
        }
    }
    unlock();
    set_errno(e);
    r
}

fn do_open(dirfd: c_int, p: *const c_char, flags: c_int, mode: u32) -> c_int {
    let mode = if flags & (O_CREAT | O_TMPFILE) != 0 { mode } else { 0 };
    let args = [dirfd as isize as usize, p as usize, flags as usize, mode as usize];
    let fl = flags as u32 as u64 | (mode as u64) << 32;
    let rec = |r: i64, [path, _]: [&[u8]; 2]| {
        let (ino, kind, size) = if r >= 0 { track(r as c_int, false) } else { (0, 0, 0) };
        emit(K_OPEN, kind, r, [ino, fl, size], &[Iov(path.as_ptr(), path.len())]);
    };
    path_op([(dirfd, p), (0, core::ptr::null())], || sys(SYS_OPENAT, args), rec) as c_int
}

/// Runs an operation on a descriptor under the lock when the descriptor is tracked.
fn fd_op(fd: c_int, op: impl FnOnce() -> c_long, record: impl FnOnce(i64, u64, u8)) -> c_long {
    let Some((ino, kind)) = tracked(fd) else {
        return op();
    };
    match lock() {
        Lock::Held => {}
        Lock::NotReady => return op(),
        Lock::Reentrant => {
            let r = op();
            let e = errno();
            emit(K_LOST, 0, 0, [LOST_REENTRANT, ino, 0], &[]);
            set_errno(e);
            return r;
        }
    }
    let r = op();
    let e = errno();
    record(result(r, e), ino, kind);
    unlock();
    set_errno(e);
    r
}

/// A write of `n` bytes just succeeded on `fd`: its offset is where the file position is now
/// minus `n` (right for O_APPEND too), unless the caller gave one.
fn written(fd: c_int, r: i64, ino: u64, at: Option<u64>, data: *const u8) {
    if r < 0 {
        return emit(K_WRITE, 0, r, [ino, 0, 0], &[]);
    }
    let off = at.unwrap_or_else(|| (sys(SYS_LSEEK, [fd as usize, 0, 1, 0]) - r as c_long) as u64);
    emit_data(0, r, ino, off, data, r as usize);
    let slot = &CAPT[fd as usize];
    slot.fetch_max(off + r as u64, Relaxed);
}

/// fsync-like calls are recorded as BEGIN (under the lock, with the size then) and END (with the
/// result), not holding the lock while the disk works: what is durable is the state at BEGIN.
fn do_sync(sub: u8, fd: c_int, global: bool, op: impl FnOnce() -> c_long) -> c_long {
    let t = if global { Some((0, FD_FILE)) } else { tracked(fd) };
    let Some((ino, kind)) = t.filter(|_| ready()) else {
        return op();
    };
    let token = shared().token.fetch_add(1, Relaxed) + 1;
    if matches!(lock(), Lock::Held) {
        if kind & FD_STDIO != 0 {
            capture(fd, -1);
        }
        let size = if global { 0 } else { stat(fd).map_or(0, |s| s.2) };
        emit(K_SYNC_BEGIN, sub, 0, [ino, token, size], &[]);
        unlock();
    }
    let r = op();
    let e = errno();
    let mut done = None;
    if matches!(lock(), Lock::Held) {
        emit(K_SYNC_END, sub, result(r, e), [ino, token, 0], &[]);
        if r == 0 && sub != SYNC_RANGE {
            done = Some(shared().flushes.fetch_add(1, Relaxed) + 1);
        }
        unlock();
    }
    if let Some(n) = done {
        stop_at(n);
    }
    set_errno(e);
    r
}

/// The stop file holds a flush count in decimal; once that many flushes completed, the whole
/// process group (threads, BGSAVE children) is stopped, so that the driver's SIGKILL lands at
/// exactly that flush however fast the server goes on. No file, or 0: nothing happens.
fn stop_at(n: u64) {
    let sh = shared();
    if sh.stop[0] == 0 {
        return;
    }
    let flags = (O_CLOEXEC) as usize;
    let fd = sys(SYS_OPENAT, a!(AT_FDCWD, sh.stop.as_ptr(), flags, 0));
    if fd < 0 {
        return;
    }
    let mut buf = [0u8; 24];
    let got = sys(SYS_PREAD, a!(fd, buf.as_mut_ptr(), buf.len(), 0));
    sys(SYS_CLOSE, a!(fd));
    let mut target = 0u64;
    for &b in &buf[..got.max(0) as usize] {
        if !b.is_ascii_digit() {
            break;
        }
        target = target.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    if target > 0 && n >= target {
        // Process group 0: the caller's, which the driver made the server's own.
        sys(SYS_KILL, a!(0, SIGSTOP));
    }
}

/// Declares the interposed C functions, one or two lines each (rustfmt leaves macro bodies alone).
macro_rules! export {
    ($(fn $name:ident($($a:ident: $t:ty),*) -> $r:ty $body:block)*) => {
        $( #[no_mangle] pub extern "C" fn $name($($a: $t),*) -> $r $body )*
    };
}
type Path = *const c_char;
const NOPATH: (c_int, Path) = (0, core::ptr::null());
const AT: c_int = AT_FDCWD;
const CREAT: c_int = O_CREAT | O_WRONLY | O_TRUNC;

// open's mode is variadic in C; on x86_64 it arrives in the register of a third argument.
export! {
    fn open(p: Path, fl: c_int, mode: u32) -> c_int { do_open(AT, p, fl, mode) }
    fn open64(p: Path, fl: c_int, mode: u32) -> c_int { do_open(AT, p, fl, mode) }
    fn openat(d: c_int, p: Path, fl: c_int, mode: u32) -> c_int { do_open(d, p, fl, mode) }
    fn openat64(d: c_int, p: Path, fl: c_int, mode: u32) -> c_int { do_open(d, p, fl, mode) }
    fn creat(p: Path, mode: u32) -> c_int { do_open(AT, p, CREAT, mode) }
    fn creat64(p: Path, mode: u32) -> c_int { do_open(AT, p, CREAT, mode) }
}

/// The write the driver asked to fail: when the fault file exists, the first write to a regular
/// file under the directory to rename it (to `.fired`, so exactly one caller wins) fails with
/// ENOSPC instead of running: a full disk, as `write(2)` reports it.
fn or_fault(fd: c_int, op: impl FnOnce() -> c_long) -> c_long {
    if !ready() {
        return op();
    }
    let sh = shared();
    let file = tracked(fd).is_some_and(|(_, k)| k & FD_FILE != 0 && k & FD_STDIO == 0);
    if file && sh.fault[0] != 0 {
        // The rename usually fails (ENOENT): the caller's errno must not show it.
        let e = errno();
        if sys(SYS_RENAME, a!(sh.fault.as_ptr(), sh.fired.as_ptr())) == 0 {
            set_errno(ENOSPC);
            return -1;
        }
        set_errno(e);
    }
    op()
}

// Writes through a descriptor: the bytes are in the caller's buffer.
export! {
    fn write(fd: c_int, buf: *const u8, n: usize) -> isize {
        let rec = |r, ino, _| written(fd, r, ino, None, buf);
        fd_op(fd, || or_fault(fd, || sys(SYS_WRITE, a!(fd, buf, n))), rec) as isize
    }
    fn pwrite(fd: c_int, buf: *const u8, n: usize, off: i64) -> isize {
        let rec = |r, ino, _| written(fd, r, ino, Some(off as u64), buf);
        fd_op(fd, || or_fault(fd, || sys(SYS_PWRITE, a!(fd, buf, n, off))), rec) as isize
    }
    fn pwrite64(fd: c_int, buf: *const u8, n: usize, off: i64) -> isize { pwrite(fd, buf, n, off) }
    fn writev(fd: c_int, iov: *const Iov, cnt: c_int) -> isize {
        let op = || or_fault(fd, || sys(SYS_WRITEV, a!(fd, iov, cnt)));
        fd_op(fd, op, |r, ino, _| writev_rec(fd, iov, cnt, r, ino)) as isize
    }
    fn ftruncate(fd: c_int, len: i64) -> c_int {
        let rec = |r, ino, _| {
            CAPT[fd as usize].fetch_min(len as u64, Relaxed);
            emit(K_TRUNCATE, 0, r, [ino, len as u64, 0], &[]);
        };
        fd_op(fd, || sys(SYS_FTRUNCATE, a!(fd, len)), rec) as c_int
    }
    fn ftruncate64(fd: c_int, len: i64) -> c_int { ftruncate(fd, len) }
}

/// Records a successful writev as one write record per buffer, at consecutive offsets.
fn writev_rec(fd: c_int, iov: *const Iov, cnt: c_int, r: i64, ino: u64) {
    if r < 0 {
        return written(fd, r, ino, None, core::ptr::null());
    }
    let end = sys(SYS_LSEEK, a!(fd, 0, 1)) as u64;
    let (mut off, mut left) = (end - r as u64, r as usize);
    for i in 0..cnt.max(0) as usize {
        // SAFETY: writev succeeded, so the kernel read all `cnt` iovec entries.
        let v = unsafe { *iov.add(i) };
        let k = v.1.min(left);
        if k > 0 {
            emit_data(0, k as i64, ino, off, v.0, k);
        }
        (off, left) = (off + k as u64, left - k);
    }
    CAPT[fd as usize].fetch_max(end, Relaxed);
}

// Descriptor lifetimes: a closed (or dup2-replaced) descriptor stops being tracked.
export! {
    fn close(fd: c_int) -> c_int {
        let rec = |r, ino, _| { untrack(fd); emit(K_CLOSE, 0, r, [ino, 0, 0], &[]) };
        fd_op(fd, || sys(SYS_CLOSE, a!(fd)), rec) as c_int
    }
    fn dup(fd: c_int) -> c_int { do_dup(fd, -1, || sys(SYS_DUP, a!(fd))) }
    fn dup2(old: c_int, new: c_int) -> c_int { do_dup(old, new, || sys(SYS_DUP2, a!(old, new))) }
    fn dup3(old: c_int, new: c_int, fl: c_int) -> c_int { do_dup(old, new, || sys(SYS_DUP3, a!(old, new, fl))) }
}

fn do_dup(old: c_int, new: c_int, op: impl FnOnce() -> c_long) -> c_int {
    let closing = if new >= 0 && new != old { tracked(new) } else { None };
    let rec = |r: i64, _, _| {
        if r < 0 {
            return;
        }
        if let Some((ino, _)) = closing {
            emit(K_CLOSE, 0, 0, [ino, 0, 0], &[]);
        }
        untrack(r as c_int);
        if let (Some((ino, kind)), Some(i)) =
            (tracked(old), usize::try_from(r).ok().filter(|&i| i < NFD))
        {
            INO[i].store(ino, Relaxed);
            KIND[i].store(kind & !FD_STDIO, Relaxed);
        }
    };
    fd_op(if closing.is_some() { new } else { old }, op, rec) as c_int
}

// Flushes: BEGIN and END records around the call (see do_sync).
export! {
    fn fsync(fd: c_int) -> c_int { do_sync(SYNC_FSYNC, fd, false, || sys(SYS_FSYNC, a!(fd))) as c_int }
    fn fdatasync(fd: c_int) -> c_int { do_sync(SYNC_FDATASYNC, fd, false, || sys(SYS_FDATASYNC, a!(fd))) as c_int }
    fn sync_file_range(fd: c_int, off: i64, n: i64, fl: u32) -> c_int {
        do_sync(SYNC_RANGE, fd, false, || sys(SYS_SYNC_FILE_RANGE, a!(fd, off, n, fl))) as c_int
    }
    fn syncfs(fd: c_int) -> c_int { do_sync(SYNC_FS, fd, true, || sys(SYS_SYNCFS, a!(fd))) as c_int }
    fn sync() -> () { do_sync(SYNC_ALL, -1, true, || sys(SYS_SYNC, a!())); }
}

/// The record closure of a one-path operation: kind, argument `a`, the path as payload.
fn path_rec(kind: u8, arg: u64) -> impl FnOnce(i64, [&[u8]; 2]) {
    move |r, [p, _]| emit(kind, 0, r, [arg, 0, 0], &[Iov(p.as_ptr(), p.len())])
}
fn rename_rec(flags: u64) -> impl FnOnce(i64, [&[u8]; 2]) {
    move |r, [from, to]| {
        let n = (from.len() as u16).to_le_bytes();
        let parts =
            [Iov(n.as_ptr(), 2), Iov(from.as_ptr(), from.len()), Iov(to.as_ptr(), to.len())];
        emit(K_RENAME, 0, r, [flags, 0, 0], &parts);
    }
}

// Names: recorded when a path (either path of a rename) is under the dir.
export! {
    fn rename(old: Path, new: Path) -> c_int {
        path_op([(AT, old), (AT, new)], || sys(SYS_RENAME, a!(old, new)), rename_rec(0)) as c_int
    }
    fn renameat(od: c_int, old: Path, nd: c_int, new: Path) -> c_int {
        let op = || sys(SYS_RENAMEAT, a!(od as isize, old, nd as isize, new));
        path_op([(od, old), (nd, new)], op, rename_rec(0)) as c_int
    }
    fn renameat2(od: c_int, old: Path, nd: c_int, new: Path, fl: u32) -> c_int {
        // SAFETY: a five-argument raw syscall; the kernel validates the path pointers.
        let op = || unsafe { syscall(SYS_RENAMEAT2, od as c_long, old, nd as c_long, new, fl as c_long) };
        path_op([(od, old), (nd, new)], op, rename_rec(fl as u64)) as c_int
    }
    fn unlink(p: Path) -> c_int { path_op([(AT, p), NOPATH], || sys(SYS_UNLINK, a!(p)), path_rec(K_UNLINK, 0)) as c_int }
    fn unlinkat(d: c_int, p: Path, fl: c_int) -> c_int {
        let op = || sys(SYS_UNLINKAT, a!(d as isize, p, fl));
        path_op([(d, p), NOPATH], op, path_rec(K_UNLINK, fl as u64)) as c_int
    }
    fn rmdir(p: Path) -> c_int {
        path_op([(AT, p), NOPATH], || sys(SYS_RMDIR, a!(p)), path_rec(K_UNLINK, AT_REMOVEDIR)) as c_int
    }
    fn mkdir(p: Path, mode: u32) -> c_int {
        path_op([(AT, p), NOPATH], || sys(SYS_MKDIR, a!(p, mode)), path_rec(K_MKDIR, mode as u64)) as c_int
    }
    fn mkdirat(d: c_int, p: Path, mode: u32) -> c_int {
        let op = || sys(SYS_MKDIRAT, a!(d as isize, p, mode));
        path_op([(d, p), NOPATH], op, path_rec(K_MKDIR, mode as u64)) as c_int
    }
    fn truncate(p: Path, len: i64) -> c_int {
        let rec = |r, [p, _]: [&[u8]; 2]| emit(K_TRUNCATE, 0, r, [0, len as u64, 0], &[Iov(p.as_ptr(), p.len())]);
        path_op([(AT, p), NOPATH], || sys(SYS_TRUNCATE, a!(p, len)), rec) as c_int
    }
    fn truncate64(p: Path, len: i64) -> c_int { truncate(p, len) }
}

/// The real stdio function `i`, resolved in init (or now, if we are called before it ran).
fn real(i: usize) -> usize {
    let f = STDIO[i].load(Relaxed);
    if f != 0 {
        return f;
    }
    // SAFETY: as in init(): RTLD_NEXT and a NUL-terminated name.
    let f = unsafe { dlsym(usize::MAX as *mut c_void, STDIO_NAMES[i].as_ptr().cast()) } as usize;
    if f == 0 {
        // SAFETY: as in panic(). Without glibc's function there is nothing to forward the call to.
        unsafe { abort() }
    }
    STDIO[i].store(f, Relaxed);
    f
}
type File = *mut c_void;

/// The open(2) flags an fopen mode string stands for.
fn fopen_flags(mode: Path) -> c_int {
    let mut m = [0u8; PATH];
    let plus = |n: usize, m: &[u8]| m[..n].contains(&b'+');
    match cstr(mode, &mut m) {
        Some(n) if m[0] == b'w' => O_CREAT | O_TRUNC | if plus(n, &m) { O_RDWR } else { O_WRONLY },
        Some(n) if m[0] == b'a' => O_CREAT | O_APPEND | if plus(n, &m) { O_RDWR } else { O_WRONLY },
        Some(n) if plus(n, &m) => O_RDWR,
        _ => 0,
    }
}

/// After a stdio call on a tracked stream (or fflush(NULL)): record what reached the file.
fn after_stdio(fp: File) {
    let e = errno();
    // SAFETY: `fp` was just accepted by glibc, so it is a valid FILE.
    let fd = if fp.is_null() { -1 } else { unsafe { fileno(fp) } };
    let stdio = |fd: c_int| tracked(fd).is_some_and(|(_, k)| k & FD_STDIO != 0);
    if (fp.is_null() || stdio(fd)) && matches!(lock(), Lock::Held) {
        let all = 0..=MAX_FD.load(Relaxed) as c_int;
        all.filter(|&f| if fp.is_null() { stdio(f) } else { f == fd }).for_each(|f| capture(f, -1));
        unlock();
    }
    set_errno(e);
}
/// True when glibc will copy `n` bytes into the stream's buffer without calling write(2):
/// fully buffered and enough room left (struct _IO_FILE: _flags@0, write_ptr@40, write_end@48).
fn fits(fp: File, n: usize) -> bool {
    // SAFETY: `fp` is a valid glibc FILE passed by the caller; we only read three fields.
    let (flags, ptr, end) = unsafe {
        let b = fp as *const u8;
        (*(b as *const i32), *(b.add(40) as *const usize), *(b.add(48) as *const usize))
    };
    flags & 0x202 == 0 && ptr != 0 && end >= ptr && n < end - ptr
}
/// Calls the real stdio write function `f`, then captures what it pushed to the file (skipped
/// when it can only have filled the buffer).
fn stdio_write<R>(fp: File, n: usize, f: impl FnOnce() -> R) -> R {
    // SAFETY: a non-null stream handed to a stdio call is a valid FILE.
    let skip = fp.is_null() || tracked(unsafe { fileno(fp) }).is_none() || fits(fp, n);
    let r = f();
    if !skip {
        after_stdio(fp);
    }
    r
}
type FwriteFn = extern "C" fn(*const c_void, usize, usize, File) -> usize;
type PutcFn = extern "C" fn(c_int, File) -> c_int;
type FputsFn = extern "C" fn(Path, File) -> c_int;
type FileFn = extern "C" fn(File) -> c_int;
type FopenFn = extern "C" fn(Path, Path) -> File;

// stdio: glibc writes a stream's buffer with an internal write(2) no preload can see, so the
// bytes are read back from the file after each call that may have flushed.
// SAFETY (every transmute below): real(X) is glibc's function X, whose C signature the type names.
export! {
    fn fwrite(p: *const c_void, s: usize, n: usize, fp: File) -> usize {
        let f: FwriteFn = unsafe { core::mem::transmute(real(FWRITE)) };
        stdio_write(fp, s.saturating_mul(n), || f(p, s, n, fp))
    }
    fn fputc(c: c_int, fp: File) -> c_int {
        let f: PutcFn = unsafe { core::mem::transmute(real(FPUTC)) };
        stdio_write(fp, 1, || f(c, fp))
    }
    fn putc(c: c_int, fp: File) -> c_int { fputc(c, fp) }
    fn fputs(s: Path, fp: File) -> c_int {
        let f: FputsFn = unsafe { core::mem::transmute(real(FPUTS)) };
        stdio_write(fp, usize::MAX, || f(s, fp))
    }
    fn fflush(fp: File) -> c_int {
        let f: FileFn = unsafe { core::mem::transmute(real(FFLUSH)) };
        let r = f(fp);
        after_stdio(fp);
        r
    }
    fn fopen(p: Path, mode: Path) -> File {
        let f: FopenFn = unsafe { core::mem::transmute(real(FOPEN)) };
        let flags = fopen_flags(mode) as u64 | 0o666 << 32;
        let mut fp = core::ptr::null_mut();
        let rec = |r: i64, [path, _]: [&[u8]; 2]| {
            let (ino, kind, size) = if r >= 0 { track(r as c_int, true) } else { (0, 0, 0) };
            emit(K_OPEN, kind, r, [ino, flags, size], &[Iov(path.as_ptr(), path.len())]);
        };
        // SAFETY: a non-null result of fopen is a valid FILE.
        let op = || { fp = f(p, mode); if fp.is_null() { -1 } else { unsafe { fileno(fp) as c_long } } };
        path_op([(AT, p), NOPATH], op, rec);
        fp
    }
    fn fopen64(p: Path, mode: Path) -> File { fopen(p, mode) }
    fn fclose(fp: File) -> c_int {
        let f: FileFn = unsafe { core::mem::transmute(real(FCLOSE)) };
        // SAFETY: a non-null `fp` given to fclose is an open FILE.
        let fd = if fp.is_null() { -1 } else { unsafe { fileno(fp) } };
        let Some((ino, _)) = tracked(fd) else { return f(fp) };
        if !matches!(lock(), Lock::Held) {
            return f(fp);
        }
        // fclose flushes then closes: a descriptor of our own reads back what the flush wrote.
        let rd = reader(fd);
        let r = f(fp);
        let e = errno();
        if rd >= 0 {
            capture(fd, rd);
            sys(SYS_CLOSE, a!(rd));
        }
        untrack(fd);
        emit(K_CLOSE, 0, result(r as c_long, e), [ino, 0, 0], &[]);
        unlock();
        set_errno(e);
        r
    }
}

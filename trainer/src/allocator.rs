//! The C allocator's settings for training.
//!
//! candle allocates a fresh buffer for every operation. With glibc's
//! defaults, buffers above the mmap threshold are mapped and zeroed by the
//! kernel each time and the heap top is given back after every free: a third
//! of a training step on the development machine. Taking every buffer from
//! the heap, and not trimming it, keeps them for reuse: at 3 × 512 and batch
//! 64 a window's gates are 52 MB, above the largest mmap threshold glibc
//! allows (32 MiB).

/// Takes every buffer from the heap (no mmap) and stops trimming it below
/// 1 GiB (glibc only; elsewhere a no-op). Called once before training.
pub fn keep_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const TRIM: libc::c_int = 1 << 30;
        // SAFETY: mallopt only changes allocator tunables; it is safe to call
        // at any time from any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_MAX, 0);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM);
        }
    }
}

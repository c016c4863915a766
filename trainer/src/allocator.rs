//! The C allocator's settings for training.
//!
//! candle allocates a fresh buffer for every operation. With glibc's
//! defaults, buffers above the mmap threshold are mapped and zeroed by the
//! kernel each time and the heap top is given back after every free: a third
//! of a training step on the development machine. Raising both thresholds
//! keeps the buffers in the heap for reuse.

/// Keeps freed buffers up to 32 MiB (glibc's largest mmap threshold) in the
/// heap and stops trimming it below 1 GiB (glibc only; elsewhere a no-op).
/// Called once before training.
pub fn keep_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP: libc::c_int = 32 << 20;
        const TRIM: libc::c_int = 1 << 30;
        // SAFETY: mallopt only changes allocator tunables; it is safe to call
        // at any time from any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM);
        }
    }
}

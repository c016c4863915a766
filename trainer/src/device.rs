//! Which device trains: the CPU, or a GPU when the trainer is built with
//! the `cuda` (or `metal`) feature.

use candle_core::Device;

/// Why a device could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The name is not one the trainer knows.
    #[error("unknown device {0:?}: use cpu, cuda, cuda:N, metal or metal:N")]
    Unknown(String),
    /// The device's backend is not compiled in.
    #[error(
        "this build has no {backend} support: build it with \
         `cargo build --release -p pianola-host --features {backend}`"
    )]
    NotBuilt {
        /// `cuda` or `metal`.
        backend: &'static str,
    },
    /// The backend failed to open the device.
    #[error("cannot open {name}: {source}")]
    Open {
        /// The device as given.
        name: String,
        /// candle's reason.
        source: candle_core::Error,
    },
}

/// Opens the device named `cpu`, `cuda`, `cuda:N`, `metal` or `metal:N`.
pub fn open(name: &str) -> Result<Device, DeviceError> {
    let (backend, ordinal) = match name.split_once(':') {
        Some((backend, n)) => {
            let n = n
                .parse::<usize>()
                .map_err(|_| DeviceError::Unknown(name.to_string()))?;
            (backend, n)
        }
        None => (name, 0),
    };
    let opened = match backend {
        "cpu" if ordinal == 0 => return Ok(Device::Cpu),
        "cuda" if cfg!(feature = "cuda") => Device::new_cuda(ordinal),
        "cuda" => return Err(DeviceError::NotBuilt { backend: "cuda" }),
        "metal" if cfg!(feature = "metal") => Device::new_metal(ordinal),
        "metal" => return Err(DeviceError::NotBuilt { backend: "metal" }),
        _ => return Err(DeviceError::Unknown(name.to_string())),
    };
    opened.map_err(|source| DeviceError::Open {
        name: name.to_string(),
        source,
    })
}

/// Sets the threads candle's CPU matrix products use, through
/// `RAYON_NUM_THREADS` (candle reads it on every product; unset, it counts
/// the cores in `/proc/cpuinfo` each time). Keeps a value already in the
/// environment when `threads` is `None`; otherwise uses every core.
///
/// # Safety
///
/// No other thread may read or write the environment meanwhile: call it
/// before starting any.
pub unsafe fn set_threads(threads: Option<usize>) {
    const VARIABLE: &str = "RAYON_NUM_THREADS";
    let threads = match threads {
        Some(n) => n.max(1),
        None if std::env::var_os(VARIABLE).is_some() => return,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    // SAFETY: the caller guarantees no other thread touches the environment.
    unsafe { std::env::set_var(VARIABLE, threads.to_string()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_parsed_and_missing_backends_say_how_to_build() {
        assert!(open("cpu").unwrap().is_cpu());
        assert!(matches!(open("tpu"), Err(DeviceError::Unknown(_))));
        assert!(matches!(open("cuda:x"), Err(DeviceError::Unknown(_))));
        if !cfg!(feature = "cuda") {
            let message = open("cuda:1").unwrap_err().to_string();
            assert!(message.contains("--features cuda"), "{message}");
        }
    }
}

//! Which model the plugin plays: the built-in one, or a weights file the
//! user chose. The choice is part of the plugin's state; loading a file
//! happens on a background thread, and a file that fails to load leaves the
//! current model playing, with the reason in the state and the log.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use nice_plug::params::persist::PersistentField;
use nice_plug::prelude::{nice_error, nice_log};
use pianola_core::perform::WorkerControl;
use pianola_core::predictor::Network;
use pianola_core::weights::ModelFile;
use serde::{Deserialize, Serialize};

/// The persisted part: the chosen file, and (written by the plugin, ignored
/// when a state is loaded) what became of it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelChoice {
    /// The user's weights file; `None` plays the built-in model.
    pub path: Option<PathBuf>,
    /// What the last load did, in words.
    #[serde(default)]
    pub status: String,
}

/// The shared model choice; clones are handles to the same slot.
#[derive(Clone)]
pub struct ModelSlot {
    inner: Arc<Inner>,
}

struct Inner {
    choice: Mutex<ModelChoice>,
    /// The model playing now, in words.
    playing: Mutex<ModelFacts>,
    /// The running worker, once the plugin is activated.
    worker: Mutex<Option<WorkerControl>>,
    /// Bumped by every load request; a load that finishes after a newer
    /// request gives way to it.
    requests: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a model is, in words: its name and one line of what `pianola
/// info` says of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelFacts {
    /// The file's name, or "built-in model".
    pub name: String,
    /// Network, vocabulary, corpus and held-out cross-entropy.
    pub summary: String,
}

impl ModelFacts {
    fn of(name: String, file: &ModelFile) -> Self {
        let config = &file.params.config;
        let corpus = &file.info.corpus;
        // The notes' cross-entropy: the token network's only head, the
        // event network's `what`.
        let training = &file.info.training;
        let notes = training
            .validation_heads
            .iter()
            .find(|(head, _)| head == "what")
            .map(|&(_, loss)| loss)
            .or(training.validation_loss);
        let loss = notes.map_or_else(|| "not measured".to_string(), |l| format!("{l:.3}"));
        let summary = format!(
            "LSTM {} × {} ({:?}) · {} tokens · corpus {} ({} songs) · held-out cross-entropy of the notes {loss}",
            config.layers, config.hidden, config.arch, config.vocab_size, corpus.name, corpus.songs
        );
        Self { name, summary }
    }
}

fn built_in_file() -> ModelFile {
    pianola_core::default_model::load().expect("the built-in model is checked by tests")
}

/// The built-in model, ready to play.
pub fn built_in_network() -> Arc<Network> {
    Arc::new(Network::new(&built_in_file()).expect("the built-in model is a Pianola network"))
}

/// What the built-in model is (read once).
pub fn built_in_facts() -> ModelFacts {
    static FACTS: OnceLock<ModelFacts> = OnceLock::new();
    FACTS
        .get_or_init(|| ModelFacts::of("built-in model".to_string(), &built_in_file()))
        .clone()
}

/// Reads and checks a weights file, and says what it is.
fn load_network(path: &Path) -> Result<(Arc<Network>, ModelFacts), String> {
    let file = ModelFile::load(path).map_err(|e| e.to_string())?;
    let network = Network::new(&file).map_err(|e| e.to_string())?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok((Arc::new(network), ModelFacts::of(name, &file)))
}

impl ModelSlot {
    /// A slot holding `path` (or the built-in model), with no worker yet.
    pub fn new(path: Option<PathBuf>) -> Self {
        let status = match &path {
            Some(path) => format!("{} will load when the plugin starts", path.display()),
            None => "playing the built-in model".to_string(),
        };
        Self {
            inner: Arc::new(Inner {
                choice: Mutex::new(ModelChoice { path, status }),
                playing: Mutex::new(built_in_facts()),
                worker: Mutex::new(None),
                requests: AtomicU64::new(0),
            }),
        }
    }

    /// The current choice and its status.
    pub fn choice(&self) -> ModelChoice {
        lock(&self.inner.choice).clone()
    }

    /// What the model playing now is (the built-in one until a file
    /// loads).
    pub fn playing(&self) -> ModelFacts {
        lock(&self.inner.playing).clone()
    }

    /// Chooses a weights file (`None`: the built-in model) and loads it in
    /// the background if the plugin is running.
    pub fn choose(&self, path: Option<PathBuf>) {
        lock(&self.inner.choice).path = path;
        self.load_in_background();
    }

    /// Connects the running worker (which starts on the built-in model)
    /// and loads the chosen file into it.
    pub fn attach(&self, worker: WorkerControl) {
        *lock(&self.inner.worker) = Some(worker);
        if lock(&self.inner.choice).path.is_some() {
            self.load_in_background();
        } else {
            self.set_status("playing the built-in model".to_string());
        }
    }

    /// Starts loading the chosen model into the worker, if there is one.
    fn load_in_background(&self) {
        let Some(worker) = lock(&self.inner.worker).clone() else {
            return;
        };
        let request = self.inner.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let path = lock(&self.inner.choice).path.clone();
        self.set_status(match &path {
            Some(path) => format!("loading {}", path.display()),
            None => "loading the built-in model".to_string(),
        });
        let slot = self.clone();
        let spawned = std::thread::Builder::new()
            .name("pianola-model-load".into())
            .spawn(move || {
                let loaded = match &path {
                    Some(path) => load_network(path),
                    None => Ok((built_in_network(), built_in_facts())),
                };
                if slot.inner.requests.load(Ordering::SeqCst) != request {
                    return;
                }
                let name = path.as_deref().map_or_else(
                    || "the built-in model".to_string(),
                    |p| p.display().to_string(),
                );
                match loaded {
                    Ok((network, facts)) => {
                        worker.swap_network(network);
                        *lock(&slot.inner.playing) = facts;
                        slot.set_status(format!("playing {name}"));
                        nice_log!("Pianola: playing {name}");
                    }
                    Err(reason) => {
                        let message = format!(
                            "could not load {name}: {reason}; the previous model keeps playing"
                        );
                        nice_error!("Pianola: {message}");
                        slot.set_status(message);
                    }
                }
            });
        if let Err(e) = spawned {
            self.set_status(format!("could not start loading: {e}"));
        }
    }

    fn set_status(&self, status: String) {
        lock(&self.inner.choice).status = status;
    }
}

impl<'a> PersistentField<'a, ModelChoice> for ModelSlot {
    /// Loading a state chooses its file; its status text is the plugin's
    /// to write, so it is not taken over.
    fn set(&self, new_value: ModelChoice) {
        self.choose(new_value.path);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&ModelChoice) -> R,
    {
        f(&lock(&self.inner.choice))
    }
}

//! Sampling events from the built-in model.

use std::sync::Arc;

use pianola_core::event::EventClasses;
use pianola_core::sample::{MAX_TOGETHER, Rhythm, continue_events};
use pianola_core::{Network, Predictor, Sampler, SamplerSettings, default_model};

#[test]
fn after_max_together_events_on_one_onset_the_next_starts_later() {
    let file = default_model::load().unwrap();
    let network = Arc::new(Network::new(&file).unwrap());
    let mut predictor = Predictor::new(network);
    // Bars of one onset stacked MAX_TOGETHER + 1 events high.
    let group = [
        "C3@12", "0.4.7@0", "E4@0", "G4@0", "C5@0", "E5@0", "G5@0", "C6@0",
    ];
    assert_eq!(group.len(), MAX_TOGETHER + 1);
    let bars: Vec<EventClasses> = group
        .iter()
        .cycle()
        .take(6 * group.len())
        .map(|text| EventClasses::of(&text.parse().unwrap(), &file.vocab).unwrap())
        .collect();
    let settings = SamplerSettings {
        temperature: 0.0,
        rhythm_temperature: 0.0,
        ..SamplerSettings::default()
    };
    let next_when = |primer: &[EventClasses], predictor: &mut Predictor| {
        let mut sampler = Sampler::new(settings, &file.vocab, 0);
        continue_events(predictor, &mut sampler, primer, 1, Rhythm::Model)[0].when
    };
    // One event short of the cap the model stacks another on the onset…
    let short = &bars[..bars.len() - 1];
    assert_eq!(
        next_when(short, &mut predictor),
        0,
        "the model's own choice"
    );
    // …at the cap, the next event starts later.
    assert!(next_when(&bars, &mut predictor) > 0, "the cap holds");
}

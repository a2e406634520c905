//! Photos at the bench: what a picture from the camera's folder goes to, `CMD-PHOTO`, and what
//! the band says about each one.

use crate::station::app::{App, Effect, Prompt, Tone};
use crate::station::messages::PhotoNews;
use crate::station::text::say;
use crate::store::photos::Target;
use crate::store::station::ParcelView;

impl App {
    /// What a picture appearing in the camera's folder now goes to: the unit being worked on
    /// (whose reason, note or cause is asked for; else the one last scanned, given an outcome
    /// or selected), else the open parcel. None when no parcel is open.
    pub fn photo_target(&self) -> Option<Target> {
        let p = self.parcel()?;
        let unit = match &p.prompt {
            Prompt::Reason { unit_id, .. } | Prompt::Note { unit_id, .. } | Prompt::Cause { unit_id } => {
                Some(*unit_id)
            }
            // The parcel is what is being refused, and photographed.
            Prompt::RefuseParcel => None,
            _ => p.current_unit().map(|u| u.id),
        };
        Some(Target { parcel: p.view.id, unit })
    }

    /// `CMD-PHOTO`.
    pub(crate) fn take_photos(&mut self) -> Vec<Effect> {
        if !self.photos_on {
            return self.error(say::no_camera_folder(self.lang));
        }
        match self.photo_target() {
            Some(target) => vec![Effect::TakePhotos(target)],
            None => self.error(say::photo_without_parcel(self.lang)),
        }
    }

    /// What became of the folder's pictures.
    pub(crate) fn photos_handled(
        &mut self,
        news: Vec<PhotoNews>,
        asked: bool,
        view: Option<ParcelView>,
    ) -> Vec<Effect> {
        let lang = self.lang;
        if let (Some(view), Some(p)) = (view, self.parcel_mut()) {
            if p.view.id == view.id {
                p.view = view;
            }
        }
        if news.is_empty() {
            return if asked { self.warn(say::no_photo(lang, &self.photos_dir)) } else { vec![] };
        }
        let refused = news.iter().any(|n| {
            !matches!(n, PhotoNews::Attached { .. } | PhotoNews::Waiting { .. } | PhotoNews::More { .. })
        });
        let waiting = news.iter().any(|n| matches!(n, PhotoNews::Waiting { .. } | PhotoNews::More { .. }));
        // A photo that went to a parcel no longer on screen (it appeared before the parcel was
        // signed, and finished after) names that parcel.
        let open = self.parcel().map(|p| p.view.id);
        let words: Vec<String> = news
            .iter()
            .map(|n| match n {
                PhotoNews::Attached { done, .. } if Some(done.target.parcel) != open => {
                    format!("{} ({})", say::photo(lang, n), say::parcel_named(lang, done.target.parcel))
                }
                _ => say::photo(lang, n),
            })
            .collect();
        let text = format!("📷 {}", words.join(" · "));
        match (refused, waiting) {
            (true, _) => self.error(text),
            (false, true) => self.warn(text),
            _ => {
                // Photos come while the operator works: an OK for the picture, not a sound.
                self.band = Some(crate::station::app::Band { tone: Tone::Ok, text });
                vec![]
            }
        }
    }
}

"""The app's pages, listed once: their files in pages/, titles, icons and addresses. app.py registers them
with st.navigation and links the home page's cards to them; a lesson step names its page by id."""
from __future__ import annotations

from dataclasses import dataclass

from .i18n import N_


@dataclass(frozen=True)
class AppPage:
    file: str          # relative to the frame (frame/main.py), the script Streamlit runs
    title: str         # a gettext message (translated where shown)
    icon: str
    url_path: str


PAGES = {
    "latent": AppPage("../pages/1_latent_explorer.py", N_("Latent explorer"), ":material/explore:", "latent"),
    "noise": AppPage("../pages/2_noise_to_image.py", N_("Noise → image & sound"), ":material/draw:", "noise"),
    "text": AppPage("../pages/3_text.py", N_("Text"), ":material/abc:", "text"),
    "music": AppPage("../pages/4_music.py", N_("Music"), ":material/music_note:", "music"),
    "training": AppPage("../pages/5_live_training.py", N_("Live training"), ":material/model_training:", "training"),
    "lessons": AppPage("../pages/6_lessons.py", N_("Lessons"), ":material/school:", "lessons"),
    "compare": AppPage("../pages/8_side_by_side.py", N_("Side by side"), ":material/compare:", "compare"),
    "class": AppPage("../pages/7_class.py", N_("Class"), ":material/co_present:", "class"),
}
HOME_TITLE = N_("Home")

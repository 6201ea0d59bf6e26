"""Sounds as sequences: a log-mel spectrogram, T frames (time steps) of F mel bands (features) in [0, 1].

`SoundDomain` owns everything about sound artifacts:
- how a waveform becomes the spectrogram a model sees (`mel_from_wave`, the very function
  scripts/build_data.py builds the bundled data with), and how a person's recording or upload is checked
  and read (`from_wav_bytes`);
- how a spectrogram becomes sound again (`to_wave`, `to_wav_bytes`: Griffin-Lim phase recovery), and what
  a browser needs to do the same (`pad_spec`);
- its pictures and files, and the figures that judge generated sounds with the domain's reference
  classifier.
A concrete sound domain (spoken digits) only says where its data is and what its labels mean.

The artifact is the spectrogram itself, uint8 [T, F] (0 = db_floor, 255 = db_top, low bands first): exact
to store and to draw; the waveform is made from it when someone wants to listen.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .. import metrics
from ..locale import N_, Sentence
from ..render import image_grid, png_bytes, upscale
from .base import Domain, Entry, classifier_guesses


def centre(wave: np.ndarray, n: int) -> np.ndarray:
    """`wave` in the middle of n samples: zero-padded on both sides, or its middle n samples when longer."""
    if len(wave) >= n:
        start = (len(wave) - n) // 2
        return wave[start:start + n]
    out = np.zeros(n, np.float32)
    start = (n - len(wave)) // 2
    out[start:start + len(wave)] = wave
    return out


class SoundDomain(Domain):
    kind = "sound"
    discrete = False
    # How a waveform becomes a spectrogram (scripts/build_data.py stores them in the bundled file, and the
    # domain refuses a file built with other values).
    sample_rate = 16_000          # Hz; speech needs nothing above 8 kHz
    n_fft = 512                   # 32 ms analysis window
    hop_length = 256              # 16 ms between frames
    n_mels = 48                   # F: fewer bands lose words in Griffin-Lim, more add nothing audible
    fmin, fmax = 20.0, 8000.0     # Hz
    db_floor, db_top = -60.0, 20.0   # mel power in dB (of a peak-normalised wave) mapped to 0 and 1
    trim_db = 40.0                # quieter than this below the loudest frame counts as silence at either end
    seq_len = 48                  # T: 47 hops, 0.752 s
    n_features = n_mels
    griffin_lim_iterations = 32
    # what a recording or an upload may be
    max_upload_bytes = 2_000_000
    max_upload_seconds = 3.0
    min_upload_rate = 8_000       # Hz; below it the consonants are gone
    upload_types = ("wav", "flac", "ogg")
    records = True
    silent_peak = 10 ** (-50 / 20)   # a recording whose loudest sample is under -50 dBFS holds nothing to hear
    explorer_grid = (3, 12, 6)
    item_noun_plural = N_("sounds")
    step_noun, step_noun_plural = N_("frame"), N_("frames")
    start_flag, start_help = "wav", "a recording of one spoken digit (WAV, FLAC or OGG, up to 3 s)"
    keep_flag, keep_help = "frames", "spectrogram frames to keep, 16 ms each (default half of them)"
    # Generated sounds are judged by what they say: `meaning` maps labels to it (identity here; a spoken
    # digit's meaning is its digit, whatever the language), and the figures are named after the word.
    meaning_word, meanings_word = "label", "labels"

    def meaning(self, labels: torch.Tensor) -> torch.Tensor:
        return labels

    @property
    def window_samples(self) -> int:
        """Samples of the fixed window: T frames of a centred STFT span (T - 1) hops."""
        return (self.seq_len - 1) * self.hop_length

    @property
    def default_prefix_length(self) -> int:
        return self.seq_len // 2

    # ---------------------------------------------------------------- waveform -> spectrogram
    def mel_from_wave(self, wave, sample_rate: int) -> np.ndarray:
        """A waveform (mono [n], or [n, channels] mixed down; any sample rate) -> float32 [T, F] in [0, 1]:
        resampled to `sample_rate`, silence trimmed from both ends, peak-normalised, centred in the
        T-frame window (its middle kept when longer), log-mel power with [db_floor, db_top] dB mapped to
        [0, 1]. ValueError when there is nothing to hear."""
        import librosa
        import soxr

        w = np.asarray(wave, dtype=np.float32)
        if w.ndim == 2:
            w = w.mean(axis=1)
        if w.ndim != 1:
            raise ValueError(Sentence("Expected a mono or multi-channel waveform, got an array of shape {shape}.",
                                      shape=str(w.shape)))
        if not np.isfinite(w).all():
            raise ValueError(Sentence("The sound contains NaN or infinite samples."))
        if int(sample_rate) != self.sample_rate:
            w = soxr.resample(w, int(sample_rate), self.sample_rate).astype(np.float32)
        if not len(w) or np.abs(w).max() < self.silent_peak:
            raise ValueError(Sentence("The recording is silent: say one digit close to the microphone and try again."))
        w, _ = librosa.effects.trim(w, top_db=self.trim_db, frame_length=self.n_fft, hop_length=self.hop_length // 2)
        w = centre(w / np.abs(w).max(), self.window_samples)
        power = librosa.feature.melspectrogram(y=w, sr=self.sample_rate, n_fft=self.n_fft,
                                               hop_length=self.hop_length, n_mels=self.n_mels,
                                               fmin=self.fmin, fmax=self.fmax, power=2.0)
        db = 10.0 * np.log10(np.maximum(power, 1e-10))
        return np.clip((db - self.db_floor) / (self.db_top - self.db_floor), 0.0, 1.0).T.astype(np.float32)

    def _too_large(self, size: int) -> Sentence:
        return Sentence("The file is {mb} MB; the largest accepted is {most} MB. Upload one spoken digit of at most "
                        "{seconds} seconds.", mb=f"{size / 1e6:.1f}", most=f"{self.max_upload_bytes / 1e6:.0f}",
                        seconds=f"{self.max_upload_seconds:g}")

    def from_wav_bytes(self, data) -> torch.Tensor:
        """The bytes of a recording or an uploaded file (WAV, FLAC, OGG...) -> float32 [T, F] in [0, 1], what a
        model reads. Checked before anything is decoded: the byte size, then the header (is it sound, how
        long); then refused when silent. Each refusal is a ValueError that says what to do."""
        import soundfile as sf

        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValueError(Sentence("Expected the bytes of a sound file."))
        size = len(data)
        if size == 0:
            raise ValueError(Sentence("The file is empty: record or upload one spoken digit."))
        if size > self.max_upload_bytes:
            raise ValueError(self._too_large(size))
        not_sound = Sentence("This file could not be read as sound; record one digit, or upload a WAV, FLAC or "
                             "OGG file.")
        try:
            info = sf.info(io.BytesIO(bytes(data)))
        except (RuntimeError, ValueError, TypeError, OSError, EOFError):   # libsndfile's errors are RuntimeErrors
            raise ValueError(not_sound) from None
        if info.frames <= 0 or info.samplerate <= 0:
            raise ValueError(Sentence("The recording is empty: it holds no sound at all."))
        if info.samplerate < self.min_upload_rate:
            raise ValueError(Sentence("The recording's sample rate is {rate} Hz; at least {least} Hz is needed to "
                                      "hear the consonants.", rate=info.samplerate, least=self.min_upload_rate))
        seconds = info.frames / info.samplerate
        if seconds > self.max_upload_seconds:
            raise ValueError(Sentence("The recording is {seconds} seconds long; the longest accepted is {most} "
                                      "seconds. Say one digit, then stop.", seconds=f"{seconds:.1f}",
                                      most=f"{self.max_upload_seconds:g}"))
        try:
            wave, rate = sf.read(io.BytesIO(bytes(data)), dtype="float32", always_2d=True,
                                 frames=info.frames)
        except (RuntimeError, ValueError, TypeError, OSError, EOFError):
            raise ValueError(not_sound) from None
        if not wave.size:
            raise ValueError(Sentence("The recording is empty: it holds no sound at all."))
        return torch.from_numpy(self.mel_from_wave(wave, rate))

    # ---------------------------------------------------------------- spectrogram -> sound
    def to_wave(self, artifact) -> np.ndarray:
        """A spectrogram -> float32 waveform of `window_samples` samples at `sample_rate`, peak 0.9:
        librosa.feature.inverse.mel_to_audio's two steps (mel power -> linear magnitude, then Griffin-Lim),
        with the phase search started from a fixed seed so the same spectrogram always sounds the same.
        Bands at the floor are silence."""
        import librosa

        x = self.from_artifact(artifact).numpy().astype(np.float64)
        db = self.db_floor + x * (self.db_top - self.db_floor)
        power = np.where(x > 0, 10.0 ** (db / 10.0), 0.0)
        magnitude = librosa.feature.inverse.mel_to_stft(power.T, sr=self.sample_rate, n_fft=self.n_fft, power=2.0,
                                                         fmin=self.fmin, fmax=self.fmax)
        wave = librosa.griffinlim(magnitude, n_iter=self.griffin_lim_iterations, hop_length=self.hop_length,
                                  n_fft=self.n_fft, length=self.window_samples, random_state=0)
        peak = float(np.abs(wave).max())
        return (wave * (0.9 / peak) if peak > 0 else wave).astype(np.float32)

    def to_wav_bytes(self, artifact) -> bytes:
        """A spectrogram -> the bytes of a 16-bit WAV file at `sample_rate`."""
        import soundfile as sf

        buf = io.BytesIO()
        sf.write(buf, self.to_wave(artifact), self.sample_rate, format="WAV", subtype="PCM_16")
        return buf.getvalue()

    def mel_filters(self) -> np.ndarray:
        """The mel filter bank, float [F, n_fft / 2 + 1]: mel power = filters @ linear power."""
        import librosa
        return librosa.filters.mel(sr=self.sample_rate, n_fft=self.n_fft, n_mels=self.n_mels, fmin=self.fmin,
                                   fmax=self.fmax)

    def pad_spec(self) -> dict:
        """What a browser needs to play a decoded spectrogram itself: the scale, the STFT's shape, and the
        pseudo-inverse of the mel filter bank ([n_fft / 2 + 1][F], 5 significant digits), so it can go from
        mel power to linear magnitude and run Griffin-Lim."""
        pinv = np.linalg.pinv(self.mel_filters().astype(np.float64))
        return {"kind": "sound", "frames": self.seq_len, "bands": self.n_mels, "sample_rate": self.sample_rate,
                "n_fft": self.n_fft, "hop_length": self.hop_length, "db_floor": self.db_floor,
                "db_top": self.db_top, "mel_pinv": [[float(f"{v:.5g}") for v in row] for row in pinv],
                "grid": int(self.explorer_grid[2])}

    # ---------------------------------------------------------------- the artifact
    def to_artifact(self, seq) -> np.ndarray:
        """[T, F] float in [0, 1] -> uint8 [T, F] spectrogram."""
        a = torch.as_tensor(seq, dtype=torch.float32).detach().cpu().reshape(self.seq_len, self.n_features)
        return (a.clamp(0, 1) * 255).round().to(torch.uint8).numpy()

    def from_artifact(self, artifact) -> torch.Tensor:
        """A spectrogram (uint8 0-255, or float 0-1), exactly [T, F] -> float [T, F] in [0, 1]."""
        a = np.asarray(artifact)
        if a.shape != (self.seq_len, self.n_features):
            raise ValueError(Sentence("Expected a spectrogram of {frames} frames × {bands} mel bands, got an array "
                                      "of shape {shape}.", frames=self.seq_len, bands=self.n_features,
                                      shape=str(a.shape)))
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise ValueError(Sentence("Expected numeric spectrogram values, got dtype {dtype}.", dtype=str(a.dtype)))
        on_0_1 = a.dtype == bool or np.issubdtype(a.dtype, np.floating)
        a = a.astype(np.float32)
        if not np.isfinite(a).all():
            raise ValueError(Sentence("The spectrogram contains NaN or infinite values."))
        if not on_0_1 or a.max() > 1.0:   # integer spectrograms, and float ones above 1, are on the 0-255 scale
            a = a / 255.0
        return torch.from_numpy(a).clamp(0, 1)

    def prefix(self, item, length: int | None = None) -> torch.Tensor:
        """The first `length` frames of a spectrogram (artifact or model rows) -> float [length, F]: what a
        completion keeps."""
        x = item if isinstance(item, torch.Tensor) and item.dtype == torch.float32 else self.from_artifact(item)
        length = int(self.default_prefix_length if length is None else length)
        if not 1 <= length < self.seq_len:
            raise ValueError(Sentence("Keep between 1 and {most} frames of the {all} (got {n}).", most=self.seq_len - 1,
                                      all=self.seq_len, n=length))
        return x.reshape(self.seq_len, self.n_features)[:length].clone()

    def read_file(self, name: str, data: bytes) -> list[Entry]:
        """One short recording (WAV, FLAC or OGG), read as an upload or a recording is."""
        return [Entry(name, self.to_artifact(self.from_wav_bytes(data)))]

    def read_start(self, path: str) -> tuple[np.ndarray, list[str]]:
        """A sound file's path -> its spectrogram; a file too large is refused before it is read."""
        p = Path(path)
        size = p.stat().st_size
        if size > self.max_upload_bytes:
            raise ValueError(self._too_large(size))
        return self.to_artifact(self.from_wav_bytes(p.read_bytes())), []

    def recognise(self, artifacts) -> list[tuple[int, float]] | None:
        """The reference classifier's guess (a label) and its confidence for each spectrogram, or None
        without one."""
        return classifier_guesses(self, artifacts)

    def describe(self, artifact) -> str:
        a = self.to_artifact(self.from_artifact(artifact))
        loudest = a.max(1).astype(float)
        # frames within trim_db of the loudest one: what mel_from_wave would keep
        sounding = int((loudest >= loudest.max() - 255 * self.trim_db / (self.db_top - self.db_floor)).sum()) \
            if loudest.max() > 0 else 0
        return (f"{self.seq_len} frames × {self.n_mels} mel bands, sound in {sounding} frames "
                f"({sounding * self.hop_length / self.sample_rate:.2f} s)")

    @staticmethod
    def spectrogram_image(artifact: np.ndarray) -> np.ndarray:
        """uint8 [T, F] -> uint8 [F, T] picture: time across, low bands at the bottom."""
        return np.ascontiguousarray(np.asarray(artifact, np.uint8).T[::-1])

    def picture(self, artifacts: Sequence, cols: int, scale: int = 2) -> np.ndarray:
        """Spectrogram mosaic: time across, pitch up."""
        tiles = [self.spectrogram_image(self.to_artifact(self.from_artifact(a))) for a in artifacts]
        return upscale(image_grid(np.stack(tiles), cols=cols, pad=2, value=90), scale)

    def write_samples(self, artifacts, folder: Path, stem: str, **options) -> list[str]:
        folder = Path(folder)
        lines = []
        for i, art in enumerate(artifacts):
            (folder / f"{stem}-{i:02d}.wav").write_bytes(self.to_wav_bytes(art))
            lines.append(f"{stem}-{i:02d}.wav: {self.describe(art)}")
        png = folder / f"{stem}.png"
        png.write_bytes(png_bytes(self.picture(artifacts, cols=int(np.ceil(np.sqrt(len(artifacts)))), scale=3)))
        return lines + [f"wrote {len(artifacts)} WAV files and their spectrograms ({png}) to {folder}"]

    # ---------------------------------------------------------------- quality figures
    def _meaning_probs(self, probs: torch.Tensor) -> torch.Tensor:
        """Label probabilities [B, labels] -> probabilities of what is said [B, meanings]."""
        meanings = self.meaning(torch.arange(self.n_labels))
        out = probs.new_zeros(len(probs), int(meanings.max()) + 1)
        return out.index_add_(1, meanings.to(probs.device), probs)

    def _recognised(self, clf, x: torch.Tensor, labels: torch.Tensor) -> float:
        """Share of x that the classifier reads as saying what `labels` say."""
        return float((self.meaning(clf.predict(x)) == self.meaning(labels)).float().mean())

    def sample_metrics(self, model, n: int, seed: int, temperature: float, slow: bool) -> dict:
        return self._vae_metrics(model, slow) if model.cfg.family == "vae" else self._gan_metrics(model, n, seed)

    def quick_metrics(self, model, n: int, seed: int) -> dict:
        clf = self.reference()
        if clf is None:
            return {}
        if model.cfg.family == "gan":
            if not model.cfg.conditional:
                return {}
            samples, labels = metrics.sample_with_labels(model, n, seed)
            pred = clf.predict(samples)
            said = float((self.meaning(pred) == self.meaning(labels)).float().mean())
            return {f"requested_{self.meaning_word}_accuracy": said,
                    "requested_label_accuracy": float((pred == labels).float().mean())}
        x, y = self.dataset("test")
        out = {"reconstruction_recognised": self._recognised(clf, self._reconstruct(model, x[:n], y[:n]), y[:n])}
        if model.cfg.latent == 2 and not model.cfg.conditional:
            out.update(self._grid_quality(model, clf))
        return out

    def _gan_metrics(self, model, n: int, seed: int) -> dict:
        samples, labels = metrics.sample_with_labels(model, n, seed)
        if labels is None:
            return {}
        out = {}
        clf = self.reference()
        if clf is not None:
            pred = clf.predict(samples)
            if self.meaning_word != "label":
                out[f"requested_{self.meaning_word}_accuracy"] = float(
                    (self.meaning(pred) == self.meaning(labels)).float().mean())
            out["requested_label_accuracy"] = float((pred == labels).float().mean())
            out["per_label_accuracy"] = [round(float((pred[labels == c] == c).float().mean()), 3)
                                         for c in range(self.n_labels)]
        test_x, test_y = self.dataset("test")
        out["spread_ratio"] = metrics.within_class_spread(samples, labels) / metrics.within_class_spread(test_x, test_y)
        return out

    @staticmethod
    def _reconstruct(model, x: torch.Tensor, y: torch.Tensor, batch: int = 500) -> torch.Tensor:
        """The decoder's output from each item's encoder mean."""
        label = (lambda i: y[i:i + batch]) if model.cfg.conditional else (lambda i: None)
        return torch.cat([model.reconstruct(x[i:i + batch], label(i)).cpu() for i in range(0, len(x), batch)])

    def _grid_quality(self, model, clf, grid: int = 10, span: float = 2.5) -> dict:
        """Decode a grid over the 2-D plane: how many different things it says, how confidently."""
        axis = torch.linspace(-span, span, grid)
        zz = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
        with torch.inference_mode():
            probs = torch.softmax(clf(model.decode(zz).cpu()).float(), -1)
        conf, said = self._meaning_probs(probs).max(-1)
        return {f"grid_{self.meanings_word}_present": int(said.unique().numel()),
                "grid_mean_confidence": float(conf.mean())}

    def vocoded(self, seqs: torch.Tensor) -> torch.Tensor:
        """What a listener's microphone would give back: each spectrogram made audible (to_wave) and read
        again (mel_from_wave); one that makes no sound comes back at the floor."""
        heard = []
        for s in seqs:
            try:
                heard.append(torch.from_numpy(self.mel_from_wave(self.to_wave(self.to_artifact(s)), self.sample_rate)))
            except ValueError:
                heard.append(torch.zeros(self.seq_len, self.n_features))
        return torch.stack(heard)

    def _vae_metrics(self, model, slow: bool, vocoded_n: int = 200) -> dict:
        tx, ty = self.dataset("train")
        vx, vy = self.dataset("test")
        out = {"knn5_latent_accuracy": metrics.knn_accuracy(metrics.encoder_means(model, tx), ty,
                                                            metrics.encoder_means(model, vx), vy)}
        clf = self.reference()
        if clf is None:
            return out
        if model.cfg.latent == 2 and not model.cfg.conditional:
            out.update(self._grid_quality(model, clf))
        recon = self._reconstruct(model, vx, vy)
        out["reconstruction_recognised"] = self._recognised(clf, recon, vy)
        if slow:   # Griffin-Lim costs about a tenth of a second a clip
            x, y = vx[:vocoded_n], vy[:vocoded_n]
            out["vocoder_round_trip_label_accuracy"] = float((clf.predict(self.vocoded(x)) == y).float().mean())
            out["reconstruction_vocoded_recognised"] = self._recognised(clf, self.vocoded(recon[:vocoded_n]), y)
        return out

"""The latent pad's browser module: the core (seqgen/ui/latent_pad/pad.js) knows no kind, each kind's renderer
(seqgen/ui/kinds/<kind>.mjs) is assembled into one module, and each renderer turns a decode into the same
artifact as the Python kind does (run here with Node on the domains' own specs)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

import seqgen
from seqgen.kinds import KINDS
from seqgen.ui import latent_pad
from seqgen.ui.kinds import VIEWS, view_of

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed (apt-get install nodejs)")
KINDS_DIR = Path(latent_pad.__file__).parent / "kinds"


def test_the_core_names_no_kind():
    core = (latent_pad.ASSETS / "pad.js").read_text(encoding="utf-8")
    code = "\n".join(line.split("//")[0] for line in core.splitlines())     # comments may explain the design
    for kind in KINDS:
        assert not re.search(rf"['\"`]{kind}['\"`]", code), f"pad.js names the {kind} kind"
    assert not re.search(r"kind ?===? ?", code)


def test_every_kind_with_a_view_has_a_renderer_and_it_is_assembled():
    source = latent_pad.module_source()
    for kind in VIEWS:
        assert f'RENDERERS["{kind}"] = (() => {{' in source
        assert (KINDS_DIR / view_of(kind).renderer).read_text(encoding="utf-8").startswith("// @ts-check")
    assert "export default function" in source and source.count("export ") == 1


@needs_node
def test_the_assembled_module_parses(tmp_path):
    path = tmp_path / "pad.mjs"
    path.write_text(latent_pad.module_source(), encoding="utf-8")
    subprocess.run([NODE, "--check", str(path)], check=True, capture_output=True, timeout=30)


def _node(module: str, function: str, spec: dict, sequences: list) -> list:
    """`function(spec, seq)` of a renderer module for each sequence, run by Node."""
    script = (f"import {{ {function} }} from {json.dumps(str(KINDS_DIR / module))};\n"
              f"const spec = {json.dumps(spec)}, seqs = {json.dumps(sequences)};\n"
              f"console.log(JSON.stringify(seqs.map((s) => {function}(spec, s))));")
    out = subprocess.run([NODE, "--input-type=module", "-e", script], check=True, capture_output=True, text=True,
                         timeout=30)
    return json.loads(out.stdout)


@needs_node
def test_text_renderer_spells_what_the_text_kind_spells():
    names = seqgen.get_domain("names")
    g = torch.Generator().manual_seed(0)
    seqs = torch.randint(0, names.n_features, (200, names.seq_len), generator=g)
    seqs[:100] = names.dataset("test")[0][:100]                       # real names, and random tokens
    got = _node("text.mjs", "tokensToText", names.pad_spec(), seqs.tolist())
    assert got == [names.to_artifact(s) for s in seqs]


@needs_node
def test_melody_renderer_reads_the_notes_the_melody_kind_reads():
    melodies = seqgen.get_domain("melodies")
    g = torch.Generator().manual_seed(0)
    seqs = torch.randint(0, melodies.n_features, (100, melodies.seq_len), generator=g)
    seqs[:50] = melodies.dataset("test")[0][:50]
    got = _node("melody.mjs", "tokensToNotes", melodies.pad_spec(), seqs.tolist())
    want = [[{"pitch": n.pitch, "start": n.start, "length": n.length} for n in melodies.to_artifact(s)] for s in seqs]
    assert got == want


@needs_node
def test_image_renderer_shows_the_grey_levels_the_image_kind_stores():
    digits = seqgen.get_domain("digits")
    x = digits.dataset("test")[0][:5]
    spec = digits.pad_spec()
    script = (f"import {{ greyRGBA }} from {json.dumps(str(KINDS_DIR / 'image.mjs'))};\n"
              f"const rows = {json.dumps([s.reshape(-1).tolist() for s in x])};\n"
              f"console.log(JSON.stringify(rows.map((r) => Array.from(greyRGBA(r, {spec['rows']}, {spec['cols']})))));")
    out = subprocess.run([NODE, "--input-type=module", "-e", script], check=True, capture_output=True, text=True,
                         timeout=30)
    for seq, rgba in zip(x, json.loads(out.stdout)):
        grey = np.asarray(rgba, np.uint8).reshape(-1, 4)[:, 0].reshape(spec["rows"], spec["cols"])
        assert np.abs(grey.astype(int) - digits.to_artifact(seq).astype(int)).max() <= 1

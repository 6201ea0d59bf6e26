"""ClassError: everything class mode refuses, as one sentence for a person (seqgen.locale.Sentence, so the app
shows it in its reader's language) plus a `reason` a program can branch on."""
from __future__ import annotations

from ..locale import N_, Sentence

REASONS = (
    "unknown_class",    # no class has this code (never had, or it ended and was deleted, or it idled out)
    "ended",            # the teacher ended the class
    "not_teacher",      # the teacher secret is wrong (a student id, a forged or old secret)
    "not_member",       # the student id is not one of this class's (joined elsewhere, or the class restarted)
    "full",             # the class has all the students its cap allows
    "too_fast",         # a student's answers or drawings come faster than the rate limit
    "closed",           # no question to answer now, or its answer was already revealed
    "question_changed", # the teacher moved on while the answer was on its way
    "too_many",         # a student sent as many drawings as one class allows
    "invalid",          # input that cannot be right: a code, nickname, drawing, answer or state out of shape
    "settings",         # a SEQGEN_CLASS_* variable is not a valid value
    "unavailable",      # the store cannot be reached or is busy beyond its timeout
)


class ClassError(ValueError):
    """A class-mode operation refused. str(error) is the English sentence; error.sentence keeps its gettext
    template (seqgen.locale.in_language(error, translations) translates it); error.reason is one of REASONS."""

    def __init__(self, sentence: Sentence, reason: str = "invalid"):
        super().__init__(sentence)
        if reason not in REASONS:
            raise ValueError(f"unknown ClassError reason {reason!r}")     # a programming error, not a user's
        self.sentence = sentence
        self.reason = reason


# The sentence each refusal of a store reads as; both stores raise through refused(), so the SQLite and the
# Redis class say the same words.
SENTENCES = {
    "unknown_class": N_("There is no class with the code {code}. Check the code with your teacher: a class that "
                        "nobody used for a while ends by itself."),
    "ended": N_("This class has ended."),
    "not_teacher": N_("Only the teacher of this class can do that."),
    "not_member": N_("You are not in this class. Join it again with its code."),
    "full": N_("This class is full: it has room for {n} students."),
    "too_fast": N_("Not so fast: wait a second, then send it again."),
    "closed": N_("There is no question to answer just now."),
    "revealed": N_("The answer has been shown, so answers are closed."),
    "question_changed": N_("The teacher has moved on to another question: answer the new one."),
    "too_many": N_("You have sent {n} drawings, as many as one class takes."),
    "no_drawing": N_("There is no drawing {id} in this class."),
    "unavailable": N_("The class cannot be reached just now; try again in a moment."),
}
REASON_OF = {"revealed": "closed", "no_drawing": "invalid"}


def refused(what: str, **values) -> ClassError:
    """The ClassError for one of SENTENCES' keys."""
    return ClassError(Sentence(SENTENCES[what], **values), reason=REASON_OF.get(what, what))

"""Why a storage exists and who keeps it alive: the memory model's two vocabularies.  No torch.

Every storage the model allocates (:class:`~alexprof.memory.engine.Buffer`) has one
:class:`Category` (what it is, as the memory tables break the step down) and a count of
holders (why it is still alive): a :class:`Holder`, or a :class:`Saved` naming the
autograd node that keeps it for backward.  The values are the words the JSON document
and the tables print (``"inputs"``, ``"optimizer_state"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from alexprof.vocab import Vocab


class Category(Vocab):
    """What a storage is; the memory breakdown's parts, in its order.

    - INPUTS: the step's ``x`` and ``y`` (the targets, int64).
    - PARAMETERS: a module's weights and biases.
    - BUFFERS: a module's buffers (batch-norm running statistics, ``num_batches_tracked``).
    - ACTIVATIONS: what forward makes and autograd may keep for backward.
    - OUTPUT: the logits (and a side branch's output), referenced by the training loop.
    - LOSS: log-softmax output, the loss, nll_loss's total weight, a side loss's weight.
    - GRADIENTS: a parameter's ``.grad``.
    - OPTIMIZER_STATE: momentum buffers, Adam's ``exp_avg``/``exp_avg_sq`` and step counters.
    - TEMPORARY: lives within a stage (a backward gradient on its way, a wrapped number).
    """

    description: str  # the breakdown table's "what" column ("" for TEMPORARY: not a part)

    def __new__(cls, value: str, description: str = "") -> Category:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    INPUTS = "inputs", "x and y (the targets, int64)"
    PARAMETERS = "parameters", "weights and biases"
    BUFFERS = "buffers", "batch-norm running statistics"
    ACTIVATIONS = "activations", "kept by autograd for backward (below)"
    OUTPUT = "output", "the logits, kept by the training loop"
    LOSS = "loss", "log-softmax output, the loss and nll_loss's total weight"
    GRADIENTS = "gradients", "one .grad per parameter"
    OPTIMIZER_STATE = (
        "optimizer_state",
        "momentum buffers / Adam exp_avg and exp_avg_sq (and step counters on CPU)",
    )
    TEMPORARY = "temporary"

    @property
    def label(self) -> str:
        """How a table names it: ``optimizer state``."""
        return self.value.replace("_", " ")

    @classmethod
    def parts(cls) -> tuple[Category, ...]:
        """The parts of the breakdown, in order: every category but TEMPORARY."""
        return tuple(c for c in cls if c is not cls.TEMPORARY)


class Holder(Vocab):
    """Who keeps a storage alive (a storage is freed when nobody does).

    - PY: a Python reference (a local of a ``forward``; the loop's ``x``, ``out``, ``loss``).
    - SAVED: an autograd node keeps it for backward; held as :class:`Saved`, naming the node.
    - INBUF: the engine's input buffer of a node waiting to run.
    - OUT: a node's output list while the engine routes it.
    - GRAD: ``param.grad``.
    - STATE: optimizer state.
    - PARAM: the module (a parameter or a buffer).
    - MODULE: a module attribute (a side branch's ``self.output``).
    - SEED: the ones that ``loss.backward()`` starts from.
    """

    PY = "py"
    SAVED = "saved"
    INBUF = "inbuf"
    OUT = "out"
    GRAD = "grad"
    STATE = "state"
    PARAM = "param"
    MODULE = "module"
    SEED = "seed"


@dataclass(frozen=True)
class Saved:
    """Holder of kind SAVED: the autograd node ``node`` keeps the storage for its backward."""

    node: str  # "conv1:ConvolutionBackward0"
    kind: ClassVar[Holder] = Holder.SAVED

    def __str__(self) -> str:
        return f"{self.kind}:{self.node}"


HolderKey = Holder | Saved


def holder_key(holder: HolderKey | str) -> HolderKey:
    """A holder as the engine counts it; a plain string must be a Holder's value."""
    return holder if isinstance(holder, Saved) else Holder(holder)

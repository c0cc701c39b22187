"""Runtimes for the network's forward pass: the same function, several CPU engines.

On a CPU-only machine self-play spends most of its time in the network, so the runtime that
runs it is worth a choice (`selfplay.inference_backend`). Each backend is a `Forward`: planes
(a float32 CPU tensor, N x C x H x W) in, float32 policy logits (N, A) and values (N,) out, and
`refresh()` to take up the network's weights after `load_weights` changed them in place.
`TorchEvaluator` owns the masking, so the search sees one kind of output whatever runs below.

- torch: eager float32 (the reference), with CUDA autocast when the network is on a GPU.
- torch_bf16: eager under CPU autocast to bfloat16; fast where the CPU has bfloat16 units
  (AVX512-BF16, AMX), emulated and slow where it has not.
- torch_int8: `torch.ao.quantization.quantize_dynamic` of the Linear layers. Convolutions are
  not dynamically quantizable in torch, so only the heads' fully connected layers run in int8
  and the residual tower, nearly all of the work, stays float32.
- torch_compile: `torch.compile` (inductor) of the eval-mode network, dynamic in the batch.
- onnxruntime, openvino: the network exported once to ONNX in memory (dynamic batch axis) and
  run by ONNX Runtime's CPU provider or OpenVINO's CPU plugin (`pip install ponder[cpu-inference]`
  for OpenVINO).

Threads follow `torch.get_num_threads()` at build time (workers set it before they build).
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import logging
import warnings
from typing import Any, Protocol, get_args

import torch
from torch import nn

from ponder.agents.alphazero.config import InferenceBackend
from ponder.agents.device import autocast
from ponder.errors import PonderError

BACKENDS: tuple[str, ...] = get_args(InferenceBackend)
# Import name -> PyPI name of the optional packages each backend needs, in order of use.
PACKAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "onnxruntime": (("onnx", "onnx"), ("onnxscript", "onnxscript"), ("onnxruntime", "onnxruntime")),
    "openvino": (("onnx", "onnx"), ("onnxscript", "onnxscript"), ("openvino", "openvino")),
}


class Forward(Protocol):
    def __call__(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def refresh(self) -> None: ...


def require(module: str, package: str, backend: str) -> Any:
    """Import an optional package, or a one-line PonderError naming what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise PonderError(
            f"inference backend {backend!r} needs the {package} package: pip install {package} "
            "(or pip install ponder[cpu-inference])"
        ) from None


def check_backend(backend: str) -> None:
    """Fail now, in one line, when `backend` is unknown or its packages are missing, rather
    than in a worker once the run has started."""
    if backend not in BACKENDS:
        raise PonderError(
            f"unknown inference backend {backend!r}; use one of {', '.join(BACKENDS)}"
        )
    for module, package in PACKAGES.get(backend, ()):
        require(module, package, backend)


def make_forward(
    backend: str, net: nn.Module, device: torch.device, amp_dtype: torch.dtype | None
) -> Forward:
    """The `Forward` of `backend` over `net` (already on `device`, in eval mode)."""
    check_backend(backend)
    if backend != "torch" and device.type != "cpu":
        raise PonderError(f"inference backend {backend!r} runs on the CPU, not on {device}")
    if backend == "torch":
        return EagerForward(net, device, amp_dtype)
    if backend == "torch_bf16":
        return EagerForward(net, device, torch.bfloat16)
    if backend == "torch_int8":
        return Int8Forward(net)
    if backend == "torch_compile":
        return CompiledForward(net)
    if backend == "onnxruntime":
        return OnnxRuntimeForward(net)
    return OpenVinoForward(net)


class EagerForward:
    """The network itself, under autocast when `amp_dtype` is set; nothing to refresh, since
    the parameters are the ones `load_weights` writes."""

    def __init__(self, net: nn.Module, device: torch.device, amp_dtype: torch.dtype | None):
        self.net, self.device, self.amp_dtype = net, device, amp_dtype

    def __call__(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.net.eval()
        with torch.inference_mode(), autocast(self.device, self.amp_dtype):
            logits, values = self.net(planes)
        return logits.float(), values.float()

    def refresh(self) -> None:
        pass


class Int8Forward:
    """A dynamically quantized copy of the network (int8 weights, activations quantized per
    batch on the fly); a refresh quantizes a fresh copy, which takes milliseconds.

    torch marks torch.ao.quantization deprecated in favour of torchao but still ships it; its
    deprecation warnings are silenced here because the choice of backend is the user's."""

    def __init__(self, net: nn.Module):
        self.net = net
        self.quantized: nn.Module = net
        self.refresh()

    def refresh(self) -> None:
        try:
            from torch.ao.quantization import quantize_dynamic
        except ImportError:
            raise PonderError(
                "inference backend 'torch_int8' needs torch.ao.quantization, which this torch "
                "no longer ships; use another backend"
            ) from None
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*deprecated")
            self.quantized = quantize_dynamic(
                copy.deepcopy(self.net).eval(), {nn.Linear}, dtype=torch.qint8
            )

    def __call__(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.inference_mode():
            logits, values = self.quantized(planes)
        return logits.float(), values.float()


class CompiledForward:
    """`torch.compile(net, dynamic=True)`: one graph for a range of batch sizes, not one per
    size (self-play's batches shrink and grow as trees finish).

    Dynamo still tells a few sizes apart: a batch of 1 is specialized (so a single position is
    padded to 2), and on torch 2.13 the convolutions split the batch axis at 16. Both graphs
    are compiled here, at build time, so that no search step stalls on a compile (tens of
    seconds on two cores). Inductor reads the parameters as inputs (no freezing), so new
    weights loaded in place need no recompile: `refresh` is free. Compiled kernels keep the
    thread count they were built with."""

    WARM_BATCHES = (2, 16)

    def __init__(self, net: nn.Module):
        self.net = net
        self.compiled = torch.compile(net, dynamic=True)
        shape = tuple(net.obs_shape)  # type: ignore[arg-type]
        for batch in self.WARM_BATCHES:
            try:
                self(torch.zeros((batch, *shape), dtype=torch.float32))
            except torch._dynamo.exc.BackendCompilerFailed as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise PonderError(
                    "inference backend 'torch_compile' could not compile the network (inductor "
                    f"needs a C++ compiler on the CPU): {first}"
                ) from None

    def __call__(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(planes)
        if n == 1:
            planes = torch.cat([planes, planes])
        self.net.eval()
        with torch.inference_mode():
            logits, values = self.compiled(planes)
        return logits[:n].float(), values[:n].float()

    def refresh(self) -> None:
        pass


class OnnxGraph:
    """The network as ONNX bytes with a dynamic batch axis, exported once per evaluator.

    Export takes seconds; new weights only need new initializers. The graph is exported
    unoptimized, so each initializer keeps its state_dict name; `model_bytes` writes the
    network's current weights into a copy and then runs onnxscript's optimizer (about 0.1 s),
    which folds BatchNorm into the convolutions and leaves the runtime a plain graph."""

    def __init__(self, net: nn.Module, backend: str):
        self.net = net
        self.onnx = require("onnx", "onnx", backend)
        self.optimizer = require("onnxscript.optimizer", "onnxscript", backend)
        self.proto = self._export()
        names = {init.name for init in self.proto.graph.initializer}
        weights = {k for k, v in net.state_dict().items() if v.is_floating_point()}
        # An exporter that renamed the weights would make the swap miss some: export again.
        self.by_name = weights <= names

    def _export(self) -> Any:
        shape = tuple(self.net.obs_shape)  # type: ignore[arg-type]
        example = torch.zeros((2, *shape), dtype=torch.float32)  # 1 would be specialized
        quiet = logging.getLogger("torch.onnx")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # "torchvision is not installed" notices
        try:
            with (
                warnings.catch_warnings(),
                contextlib.redirect_stdout(io.StringIO()),
                torch.no_grad(),
            ):
                warnings.simplefilter("ignore")
                program = torch.onnx.export(
                    self.net.eval(),
                    (example,),
                    input_names=["planes"],
                    output_names=["logits", "values"],
                    dynamic_shapes=({0: torch.export.Dim("batch")},),
                    dynamo=True,
                    optimize=False,
                    verbose=False,
                )
        finally:
            quiet.setLevel(level)
        return program.model_proto

    def model_bytes(self) -> bytes:
        """The serialized, optimized model holding the network's current weights."""
        if not self.by_name:
            model = self._export()
        else:
            model = self.onnx.ModelProto()
            model.CopyFrom(self.proto)
            state = self.net.state_dict()
            for init in model.graph.initializer:
                if init.name in state:
                    array = state[init.name].detach().cpu().numpy()
                    init.CopyFrom(self.onnx.numpy_helper.from_array(array, init.name))
        return self.optimizer.optimize(model).SerializeToString()


class OnnxRuntimeForward:
    """ONNX Runtime, CPU execution provider, one sequential session; a refresh builds a new
    session from the re-weighted graph (tens of milliseconds after the 0.1 s rewrite).

    Spinning is off: between forward passes the caller runs the numba search, and pool
    threads spinning for work would take its core."""

    def __init__(self, net: nn.Module):
        self.ort = require("onnxruntime", "onnxruntime", "onnxruntime")
        self.graph = OnnxGraph(net, "onnxruntime")
        self.threads = torch.get_num_threads()
        self.session: Any = None
        self.refresh()

    def refresh(self) -> None:
        ort = self.ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            self.graph.model_bytes(), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, values = self.session.run(None, {"planes": planes.numpy()})
        return torch.from_numpy(logits), torch.from_numpy(values)


class OpenVinoForward:
    """OpenVINO's CPU plugin on the same ONNX graph; a refresh reads and compiles the
    re-weighted graph again (about 0.2 s for the connect-four network).

    One caller makes one request at a time, so the hint is LATENCY (one stream). Precision is
    pinned to f32: on CPUs with bfloat16 units the plugin would otherwise run bf16 silently
    (torch_bf16 is the explicit way to ask for that). Pinning threads to cores is off: several
    workers share the machine and each would pin its threads to the same first cores."""

    def __init__(self, net: nn.Module):
        self.ov = require("openvino", "openvino", "openvino")
        self.graph = OnnxGraph(net, "openvino")
        self.core = self.ov.Core()
        self.threads = torch.get_num_threads()
        self.request: Any = None
        self.refresh()

    def refresh(self) -> None:
        model = self.core.read_model(self.graph.model_bytes())
        compiled = self.core.compile_model(
            model,
            "CPU",
            {
                "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_NUM_THREADS": self.threads,
                "INFERENCE_PRECISION_HINT": "f32",
                "ENABLE_CPU_PINNING": False,
            },
        )
        self.request = compiled.create_infer_request()

    def __call__(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # The request returns copies of its output buffers (share_outputs=False), so the
        # arrays stay valid after the next call.
        out = self.request.infer([planes.numpy()], share_inputs=True)
        return torch.from_numpy(out[0]), torch.from_numpy(out[1])

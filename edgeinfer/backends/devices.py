"""--device / --provider: the device a model runs on, by the names people use
(cpu, cuda, tensorrt, openvino, coreml ...), as the onnxruntime execution
provider the installed build has. `run`, `bench` and `serve` take it alike."""
import os

from ..errors import ModelError

SUFFIX = "ExecutionProvider"
CPU = "CPUExecutionProvider"
# names people say that are not the provider's own short name
ALIASES = {"directml": "dml", "gpu": "cuda"}


def short_name(provider):
    """'CUDAExecutionProvider' -> 'cuda'."""
    name = provider[:-len(SUFFIX)] if provider.endswith(SUFFIX) else provider
    return name.lower()


def installed_providers():
    """onnxruntime's execution providers in this build, best first ([] without onnxruntime)."""
    try:
        import onnxruntime
    except ImportError:
        return []
    return list(onnxruntime.get_available_providers())


def provider_for(device, available=None):
    """The execution provider for a --device: a short name (cuda) or the provider's
    own (CUDAExecutionProvider), any case. A ModelError naming the ones this
    onnxruntime has when it has no such provider."""
    available = installed_providers() if available is None else list(available)
    wanted = short_name(str(device).strip())
    wanted = ALIASES.get(wanted, wanted)
    for provider in available:
        if short_name(provider) == wanted:
            return provider
    have = ", ".join(f"{short_name(p)} ({p})" for p in available) or "none (onnxruntime is " \
                                                                     "not installed)"
    raise ModelError(f"device {device!r} is not in this onnxruntime build; it has: {have}. "
                     f"A GPU or NPU needs its own onnxruntime package (onnxruntime-gpu, "
                     f"onnxruntime-openvino, ...)")


def session_providers(provider):
    """What the session is given: the chosen provider, then the CPU for the
    operators it does not take (as onnxruntime itself advises)."""
    return [provider] if provider == CPU else [provider, CPU]


def physical_cores():
    """Cores this process may use, counting hyperthread siblings once: what
    onnxruntime takes by default (its intra-op threads, one per physical core)."""
    try:
        usable = os.sched_getaffinity(0)
    except AttributeError:  # macOS
        return os.cpu_count() or 1
    cores = set()
    for cpu in usable:
        try:
            with open(f"/sys/devices/system/cpu/cpu{cpu}/topology/core_id") as f:
                core = f.read().strip()
            with open(f"/sys/devices/system/cpu/cpu{cpu}/topology/physical_package_id") as f:
                cores.add((f.read().strip(), core))
        except OSError:
            cores.add(("cpu", cpu))
    return len(cores) or 1

"""Which libraries did a run's arithmetic, with how many threads and which CPU kernels.

A backend's speed is mostly its BLAS's: which library (NumPy and SciPy each ship an OpenBLAS),
which version, and which of its kernel sets it picked for this CPU (Haswell, SkylakeX...).
:func:`loaded` lists what ``threadpoolctl`` finds loaded in the process, plus PyTorch's own BLAS
and CPU kernel level, which are linked into PyTorch where ``threadpoolctl`` cannot see them;
:func:`gpu_libraries` gives the CUDA and cuDNN versions a GPU run used.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

NONE = "none"
ITEM_PREFIX = "kernels: "  # provenance items naming a library, e.g. "kernels: BLAS from numpy"


def loaded() -> list[dict[str, Any]]:
    """The BLAS and OpenMP libraries loaded in this process, by API and the package that brought
    them (not by load order, which differs between a run and its resumption).

    Each: ``api`` (blas, openmp), ``library`` (openblas, mkl...), ``version``, ``threads``,
    ``architecture`` (the kernel set it chose; None where it does not say), ``threading_layer``,
    ``shipped_by`` (the package that brought it) and ``file``.
    """
    from threadpoolctl import threadpool_info

    found = [
        {
            "api": pool["user_api"],
            "library": pool["internal_api"],
            "version": pool.get("version"),
            "threads": pool["num_threads"],
            "architecture": pool.get("architecture"),
            "threading_layer": pool.get("threading_layer"),
            "shipped_by": shipped_by(pool["filepath"]),
            "file": Path(pool["filepath"]).name,
        }
        for pool in threadpool_info()
    ]
    if "torch" in sys.modules:
        found.append(_torch_blas(sys.modules["torch"]))
    return sorted(found, key=lambda k: (k["api"], k["shipped_by"], k["library"], k["file"] or ""))


def shipped_by(filepath: str) -> str:
    """The package whose folder holds a library: ``.../site-packages/numpy.libs/x.so`` -> numpy;
    a library outside any package (the system's) -> its folder."""
    parts = Path(filepath).parts
    for i, part in enumerate(parts[:-1]):
        if part in ("site-packages", "dist-packages") and i + 2 < len(parts):
            return parts[i + 1].removesuffix(".libs")
    return str(Path(filepath).parent)


def _torch_blas(torch) -> dict[str, Any]:
    """PyTorch's BLAS (linked in, so invisible to threadpoolctl) and the CPU kernel level its
    operators dispatch to (AVX2, AVX512...)."""
    built = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", built)
    return {
        "api": "blas",
        "library": blas.group(1) if blas else "unknown",
        "version": None,
        "threads": torch.get_num_threads(),
        "architecture": torch.backends.cpu.get_cpu_capability(),
        "threading_layer": None,
        "shipped_by": "torch",
        "file": None,
    }


def describe(kernel: dict[str, Any]) -> tuple[str, str]:
    """A provenance item for one library: ("kernels: BLAS from numpy", "openblas 0.3.30,
    Haswell kernels, 1 thread, pthreads")."""
    api = {"blas": "BLAS", "openmp": "OpenMP"}.get(kernel["api"], kernel["api"])
    n = kernel["threads"]
    parts = [
        " ".join(str(x) for x in (kernel["library"], kernel["version"]) if x),
        f"{kernel['architecture']} kernels" if kernel.get("architecture") else None,
        f"{n} thread{'s' if n != 1 else ''}",
        kernel.get("threading_layer"),
    ]
    return f"{ITEM_PREFIX}{api} from {kernel['shipped_by']}", ", ".join(p for p in parts if p)


def gpu_libraries(device: str) -> dict[str, str]:
    """The CUDA runtime and cuDNN versions of a CUDA run, from the framework loaded; ``none`` on
    the CPU."""
    if device != "cuda":
        return {"cuda": NONE, "cudnn": NONE}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        return {"cuda": str(torch.version.cuda), "cudnn": _cudnn(cudnn)}
    if "jax" in sys.modules:
        try:
            from jax._src.lib import cuda_versions
        except ImportError:
            cuda_versions = None
        if cuda_versions is not None:
            runtime = cuda_versions.cuda_runtime_get_version()
            return {
                "cuda": f"{runtime // 1000}.{runtime % 1000 // 10}",
                "cudnn": _cudnn(cuda_versions.cudnn_get_version()),
            }
    return {"cuda": "unknown", "cudnn": "unknown"}


def _cudnn(number: int | None) -> str:
    """cuDNN's version number as text: 90800 -> 9.8.0 (cuDNN 9), 8902 -> 8.9.2 (cuDNN 8)."""
    if not number:
        return NONE
    major, rest = (number // 10000, number % 10000) if number >= 10000 else divmod(number, 1000)
    return f"{major}.{rest // 100}.{rest % 100}"

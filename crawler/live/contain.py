"""Stronger containment for strangers' servers, run unattended: install, then run, as two phases.

    install   the package runner (npx, uvx) fetches the package into mcp-risk's own cache, with
              network (to the package registry), a temporary home, the sandbox's limits and a time
              limit; it starts nothing of the server's (npm: `node -e ''`, uv: `python -c ''`).
              Under bubblewrap too where it is installed (the system read-only, the user's files
              masked, only the cache and the temporary home writable, its own PID namespace, dying
              with its parent), with the network shared. Install scripts do run here.
    run       the server starts from that cache with no network at all (`npx --offline`,
              `UV_OFFLINE`), under bubblewrap where it is installed: a read-only view of the system,
              a fresh /tmp holding only its own temporary home, new network and PID namespaces (when
              the first process dies, the kernel kills every descendant, double-forked or not), and
              `--die-with-parent`. Without bubblewrap, the `unshare` sandbox of `sandbox` (network and
              PID namespaces, same home and limits, the system writable as the user).

`containment()` says which run-phase sandbox this machine gives; every result records it.
"""

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .sandbox import _apply_limits, network_isolation_prefix

BWRAP = "bwrap"
_INSTALL_TAIL = 1 << 16  # bytes of the installer's stderr kept for its error message
UNSHARE = "unshare"


def runner_path(name):
    """npx / uvx on PATH, or beside this Python (uv installed into mcp-risk's own environment)."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else None


@functools.cache
def containment():
    """"bwrap" when bubblewrap can make namespaces here, else "unshare" (raises ManifestError when
    neither can: then no stranger's server may run)."""
    bwrap = shutil.which(BWRAP)
    if bwrap:
        # The very command lines a probe uses (install and run phase), running `true`: an old
        # bubblewrap (no --size before 0.7) or a setuid one would otherwise pass a plainer check,
        # then fail every probe.
        root = tempfile.mkdtemp(prefix="mcp-risk-check-")
        why = None
        try:
            for network in (True, False):
                check = subprocess.run([*bwrap_prefix([root], network=network), "true"],
                                       capture_output=True, timeout=10, check=False)
                if check.returncode != 0:
                    lines = check.stderr.decode("utf-8", "replace").strip().splitlines()
                    why = lines[-1] if lines else f"exit {check.returncode}"
                    break
        except (OSError, subprocess.TimeoutExpired) as error:
            why = str(error)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        if why is None:
            return BWRAP
        # Said once (this answer is cached), so a crawl does not fail each probe for the same reason.
        print(f"mcp-risk: bubblewrap ({bwrap}) cannot run a probe's sandbox here ({why[:200]}); "
              "using the unshare sandbox", file=sys.stderr)
    network_isolation_prefix()
    return UNSHARE


TMP_BYTES = 256 << 20
MASK_BYTES = 1 << 20  # the masks over the user's files hold only the mount points bwrap makes


def bwrap_prefix(writable, network=False):
    """The bubblewrap command line: the system read-only, a private /tmp and /dev, no network (unless
    `network`: the install phase), its own PID namespace; `writable` folders (its temporary root, the
    package cache) bound read-write.

    The user's own files are out of sight in both phases: /home, /root, the user's home and the
    folder mcp-risk runs in are empty, and /run (sockets: D-Bus, Docker) too. What a runner needs
    from there comes back read-only: the folders on PATH and this Python's prefixes (a Python under
    ~/.pyenv, a venv in the project)."""
    masked = _private_places()
    # A tmpfs is memory: each is capped (by default one may take half the machine's RAM).
    argv = [shutil.which(BWRAP), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    for place in masked:
        argv += ["--size", str(MASK_BYTES), "--tmpfs", place]
    if network:
        # /etc/resolv.conf often points into /run (systemd-resolved): the installer needs its target.
        target = os.path.realpath("/etc/resolv.conf")
        if target.startswith("/run/") and os.path.exists(target):
            argv += ["--ro-bind", os.path.dirname(target), os.path.dirname(target)]
    else:
        argv += ["--unshare-net"]
    for folder in _needed_places(masked):
        argv += ["--ro-bind", folder, folder]
    argv += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session"]
    for folder in writable:
        argv += ["--bind", str(folder), str(folder)]
    return [*argv, "--"]


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _outermost(paths):
    """The real, existing folders among `paths`, outermost first, without those inside another."""
    found = sorted({os.path.realpath(p) for p in paths if p and os.path.isdir(p)}, key=lambda p: (p.count("/"), p))
    return [p for i, p in enumerate(found) if not any(_inside(p, q) for q in found[:i])]


_SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/opt", "/nix", "/snap", "/var", "/tmp", "/dev",
           "/proc", "/sys")
# Where runtimes and their libraries live: a working folder in there (/usr/local/src) is not masked,
# as that could hide a library no PATH entry names. /var and /opt hold users' homes and data too
# (/var/lib/jenkins): a home or working folder there is masked, its runners re-bound from PATH.
_RUNTIME = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/nix", "/snap", "/dev",
            "/proc", "/sys")


def _private_places():
    """Where the user's own files live, masked by an empty tmpfs (outermost first): /home, /root,
    /run, the mount points of other disks (/mnt, /media, /srv), the user's home and the working folder."""
    home = os.path.expanduser("~")
    places = ["/home", "/root", "/run", "/mnt", "/media", "/srv", home]
    try:
        cwd = os.getcwd()
        if not any(_inside(os.path.realpath(cwd), q) for q in _RUNTIME):
            places.append(cwd)
    except OSError:  # run from a folder since removed
        pass
    # Never a system folder itself or one holding it ("/", /var): only what is inside.
    return [p for p in _outermost(places) if not any(_inside(q, p) for q in _SYSTEM) and
            not any(_inside(p, q) for q in _RUNTIME)]


def _needed_places(masked):
    """Folders a runner needs that sit inside a masked place (or in /tmp, a fresh tmpfs inside):
    PATH and this Python's prefixes, e.g. a checkout's .venv under /tmp holding uv."""
    hidden = [*masked, os.path.realpath(tempfile.gettempdir()), "/tmp"]
    # Only absolute PATH entries: `.` or a relative one would re-bind the masked working folder.
    wanted = [folder for folder in os.environ.get("PATH", "").split(os.pathsep) if os.path.isabs(folder)]
    wanted += [sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))]
    # pyenv's shims run pyenv itself, from its root: a tree of Pythons, no user data.
    wanted += [folder.rsplit("/.pyenv/", 1)[0] + "/.pyenv" for folder in wanted if "/.pyenv/" in folder]
    # A folder that is a masked place, or holds one (/root on PATH), would undo the mask.
    return [folder for folder in _outermost(wanted) if any(_inside(folder, q) for q in hidden)
            and not any(_inside(m, folder) for m in masked)]


def install_argv(spec):
    """The install-phase command for a registry spec (npx / uvx), or None when it needs none."""
    if spec.remote or not spec.args:
        return None
    command = Path(spec.command).name
    if command == "npx":
        package = next((a for a in spec.args if not a.startswith("-")), None)
        return None if package is None else [spec.command, "--yes", f"--package={package}", "--", "node", "-e", ""]
    if command == "uvx":
        package = spec.args[0]
        return [spec.command, "--from", package, "python", "-c", ""]
    return None


# How this machine reaches the package registries (proxy, TLS roots, a mirror): the install phase
# only, which is the one phase with network. Nothing else of the user's environment is passed.
_INSTALL_PASSTHROUGH = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
                        "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "UV_INDEX_URL", "UV_DEFAULT_INDEX",
                        "UV_EXTRA_INDEX_URL", "UV_NATIVE_TLS", "PIP_INDEX_URL", "npm_config_registry")


def cache_env(cache_dir, home, tmp):
    env = {name: os.environ[name] for name in _INSTALL_PASSTHROUGH if name in os.environ}
    env |= {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home), "TMPDIR": str(tmp), "LANG": "C.UTF-8",
        "npm_config_cache": str(Path(cache_dir) / "npm"), "UV_CACHE_DIR": str(Path(cache_dir) / "uv"),
        "npm_config_update_notifier": "false", "npm_config_fund": "false", "npm_config_audit": "false",
        "UV_PYTHON_DOWNLOADS": "never",
        "XDG_CONFIG_HOME": str(Path(home) / ".config"), "XDG_DATA_HOME": str(Path(home) / ".local/share"),
    }
    folder = str(Path(sys.executable).parent)
    if folder not in env["PATH"].split(os.pathsep):
        env["PATH"] += os.pathsep + folder  # uv installed beside mcp-risk
    return env


async def install(spec, cache_dir, limits, timeout):
    """Phase one: fetch the package into `cache_dir`. None when done, else a one-line error.
    Cancellation (a crawl's time limit) kills the installer and propagates."""
    import asyncio

    argv = install_argv(spec)
    if argv is None:
        return None
    if runner_path(argv[0]) is None:
        return f"cannot install: {argv[0]} is not installed here"
    argv[0] = runner_path(argv[0])
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="mcp-risk-install-"))
    process = None
    try:
        home, tmp = root / "home", root / "tmp"
        home.mkdir()
        tmp.mkdir()
        if containment() == BWRAP:
            # The system read-only to the installer too (a package's install scripts write only to
            # the cache and its temporary home), and the whole install dies with this process: a
            # Dask worker killed mid-install leaves no npm behind.
            argv = [*bwrap_prefix([root, Path(cache_dir).resolve()], network=True), *argv]
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=root,
            env=cache_env(cache_dir, home, tmp), start_new_session=True,
            preexec_fn=functools.partial(_apply_limits, limits))
        # Only stderr's tail is kept, as for a server (an error comes last, after progress): an
        # installer flooding stderr costs us no more memory than that.
        tail = bytearray()

        async def drain():
            while chunk := await process.stderr.read(1 << 16):
                tail.extend(chunk)
                del tail[:-_INSTALL_TAIL]

        try:
            await asyncio.wait_for(asyncio.gather(drain(), process.wait()), timeout)
        except (asyncio.TimeoutError, TimeoutError):
            return f"install did not finish within {timeout:g} s"
        if process.returncode != 0:
            lines = [line.strip() for line in bytes(tail).decode("utf-8", "replace").splitlines() if line.strip()]
            hint = next((line for line in reversed(lines) if "err" in line.lower()), lines[-1] if lines else "")
            return f"install failed (exit {process.returncode}): {hint[:200]}"
        return None
    finally:
        if process is not None:
            _kill_group(process)
            if process.returncode is None:
                try:
                    await asyncio.wait_for(process.wait(), 5)
                except (asyncio.TimeoutError, TimeoutError):
                    pass
        shutil.rmtree(root, ignore_errors=True)


def _kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass

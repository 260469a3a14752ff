"""The git operations arctl makes in a workspace, independent of the user's git configuration.

Commits, notes and refs carry the user's identity when git has one configured, and arctl's own
otherwise, so a fresh machine, a CI runner or a container with an empty HOME works the same.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import git

from arctl.errors import ArctlError

ARCTL = git.Actor("arctl", "arctl@localhost")
BRANCH_PREFIX = "autoresearch/"


def identity(repo: git.Repo) -> git.Actor:
    reader = repo.config_reader()
    name = reader.get_value("user", "name", default="")
    email = reader.get_value("user", "email", default="")
    return git.Actor(str(name), str(email)) if name and email else ARCTL


def open_repo(path) -> git.Repo:
    """The workspace's repository, with the identity set for every git command run through it."""
    try:
        repo = git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ArctlError(f"{path} is not a git repository: run `arctl init` there first") from None
    _use_identity(repo)
    return repo


def init_repo(path) -> git.Repo:
    Path(path).mkdir(parents=True, exist_ok=True)
    try:
        repo = git.Repo(path)
    except git.InvalidGitRepositoryError:
        repo = git.Repo.init(path, initial_branch="main")
    _use_identity(repo)
    return repo


def _use_identity(repo: git.Repo) -> None:
    who = identity(repo)
    repo.git.update_environment(GIT_AUTHOR_NAME=who.name, GIT_AUTHOR_EMAIL=who.email,
                                GIT_COMMITTER_NAME=who.name, GIT_COMMITTER_EMAIL=who.email)


def commit(repo: git.Repo, paths: list[str], message: str) -> str:
    repo.index.add(paths)
    who = identity(repo)
    return repo.index.commit(message, author=who, committer=who).hexsha


def notes_ref(run: str) -> str:
    """refs/notes/arctl/RUN: one note per evaluated commit of a run (a commit may serve several runs)."""
    return f"arctl/{run}"


def add_note(repo: git.Repo, run: str, commit_sha: str, text: str) -> None:
    repo.git.notes("--ref", notes_ref(run), "add", "-f", "-m", text, commit_sha)


def read_note(repo: git.Repo, run: str, commit_sha: str) -> str | None:
    try:
        return repo.git.notes("--ref", notes_ref(run), "show", commit_sha)
    except git.GitCommandError:
        return None


def noted(repo: git.Repo, run: str) -> set[str]:
    """The commits that carry a note of this run."""
    try:
        listing = repo.git.notes("--ref", notes_ref(run), "list")
    except git.GitCommandError:  # no note written yet
        return set()
    return {line.split()[1] for line in listing.splitlines() if line.strip()}


def keep_reachable(repo: git.Repo, run: str, iteration: int, commit_sha: str) -> None:
    """refs/arctl/RUN/iter-N: every attempt stays reachable after a reset."""
    repo.git.update_ref(f"refs/arctl/{run}/iter-{iteration}", commit_sha)


def commit_file(repo: git.Repo, parent: str, path: str, data: bytes, message: str, ref: str) -> str:
    """A commit of parent's tree with one top-level file replaced, made without touching the index, the
    work tree or HEAD, and pointed at by ref (so a candidate in flight is never on the run's branch)."""
    blob = _git(repo, "hash-object", "-w", "--stdin", data=data)
    entries = [line for line in _git(repo, "ls-tree", parent).splitlines() if line.split("\t", 1)[1] != path]
    entries.append(f"100644 blob {blob}\t{path}")
    tree = _git(repo, "mktree", data="\n".join(entries).encode() + b"\n")
    return commit_tree(repo, tree, parent, message, ref)


def commit_tree(repo: git.Repo, tree: str, parent: str, message: str, ref: str) -> str:
    """A commit of tree on parent, with the workspace's identity, pointed at by ref."""
    sha = repo.git.commit_tree(tree, "-p", parent, "-m", message)
    repo.git.update_ref(ref, sha)
    return sha


def _git(repo: git.Repo, *args: str, data: bytes = b"") -> str:
    out = subprocess.run(["git", "-C", repo.working_tree_dir, *args], input=data, capture_output=True, check=False)
    if out.returncode != 0:
        raise ArctlError(f"git {args[0]} failed: {out.stderr.decode(errors='replace').strip()}")
    return out.stdout.decode().strip()


def train_py_at(repo: git.Repo, rev: str) -> bytes:
    return repo.commit(rev).tree["train.py"].data_stream.read()


def candidate_source(target: str) -> tuple[bytes, str]:
    """A train.py to evaluate, from a file or a git revision of the current directory: (source, label)."""
    path = Path(target)
    if path.is_file():
        return path.read_bytes(), str(path)
    if path.exists():
        raise ArctlError(f"{target} is not a file")
    try:
        repo = git.Repo(Path.cwd(), search_parent_directories=True)
        return train_py_at(repo, target), f"{target}:train.py"
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise ArctlError(f"{target} is not a file, and this is not a git repository to read it as a revision") from None
    except (git.BadName, ValueError, KeyError) as e:
        raise ArctlError(f"{target} is neither a file nor a git revision with a train.py ({e})") from None

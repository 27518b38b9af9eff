"""What `--file` names: audio files, folders of them, .m3u or .pls playlists and .cue
sheets, played in order.

`Playlist.from_paths` expands each argument in the order given: a file as itself, a folder
as its audio files and those of the folders inside it (each by name; with the tracks of a
cue sheet beside its file; so has a file given alone), an .m3u/.m3u8 as the entries it lists
(relative ones against the playlist's own folder; `#` lines are comments), a .pls (Winamp's
and internet radio's) as its `FileN=` entries in N's order, relative ones the same, a .cue
as the audio file (or files) it names, with where each of its tracks starts and what it is
called (`cue_sheet.py`; `cue_tracks`, which the window names the tracks by). A path
that does not exist, an entry that does not, an entry that is a stream's address (an
internet radio's: this app plays files, and hears a player's stream through the computer's
sound), or a set with no audio file at all is refused with a `PlaylistError` that names it.
Whether each file decodes is found out when it plays.

With `shuffle` (`--shuffle`) the files play in a random order, dealt again each time a
looping list starts over (dealt as the round's last file plays, so the next round's first
is known in time to follow without a gap); a new deal never starts with the file that just
ended, so no file plays twice in a row.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Sequence
from pathlib import Path

from visualizer.frontend import AUDIO_FILE_SUFFIXES

from .cue_sheet import CUE_SUFFIX, CueSheetError, CueTrack, read_cue_sheet, read_cue_sheet_as

M3U_SUFFIXES = (".m3u", ".m3u8")
PLS_SUFFIX = ".pls"
PLAYLIST_SUFFIXES = (*M3U_SUFFIXES, PLS_SUFFIX, CUE_SUFFIX)
STREAM_SCHEMES = ("http://", "https://", "mms://", "rtsp://", "rtmp://", "icy://")


class PlaylistError(ValueError):
    """A --file argument that names nothing playable; the message says which and why."""


def _playlist_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise PlaylistError(f"cannot read the playlist {path}: {error}") from error


def _entry(path: Path, number: int, written: str) -> Path:
    """A playlist's entry as written on its line `number`: a file, relative ones against
    the playlist's folder."""
    if written.lower().startswith(STREAM_SCHEMES):
        raise PlaylistError(
            f"{path}, line {number}: {written} is a stream's address, not a file: play it in "
            "a player and pick the input 'this computer' to hear it"
        )
    entry = Path(written)
    entry = entry if entry.is_absolute() else path.parent / entry
    if not entry.is_file():
        raise PlaylistError(f"{path}, line {number}: {written} does not exist")
    return entry


def _m3u_entries(path: Path) -> list[Path]:
    return [
        _entry(path, number, line.strip())
        for number, line in enumerate(_playlist_lines(path), start=1)
        if line.strip() and not line.strip().startswith("#")
    ]


def _pls_entries(path: Path) -> list[Path]:
    """A .pls's `FileN=` entries in N's order (its other keys, titles and lengths, are the
    players' own)."""
    numbered = []
    for number, line in enumerate(_playlist_lines(path), start=1):
        key, equals, value = line.strip().partition("=")
        if equals and key.lower().startswith("file") and key[4:].isdigit():
            numbered.append((int(key[4:]), _entry(path, number, value.strip())))
    return [entry for _, entry in sorted(numbered, key=lambda pair: pair[0])]


def _tracks_by_sheets(
    sheets: list[Path], audio: Sequence[Path]
) -> dict[Path, tuple[CueTrack, ...]]:
    """The tracks the cue sheets `sheets` give the files of `audio` they name; a sheet that
    cannot be read is passed over (its files play as files)."""
    cue_tracks: dict[Path, tuple[CueTrack, ...]] = {}
    for sheet in sheets:
        try:
            sheet_files = read_cue_sheet(sheet)
        except CueSheetError:
            continue
        cue_tracks.update((file, tracks) for file, tracks in sheet_files if file in audio)
    return cue_tracks


def _cue_sheets_among(entries: list[Path]) -> list[Path]:
    """The cue sheets among a folder's `entries` (by their suffix)."""
    return [entry for entry in entries if entry.suffix.lower() == CUE_SUFFIX]


def _folder_entries(path: Path) -> tuple[list[Path], dict[Path, tuple[CueTrack, ...]]]:
    """A folder's audio files, then those of each folder inside it (an artist's albums, a
    whole library), each by name; hidden ones (a leading dot: a Mac's "._" twins on a USB
    stick) are passed over. Where a folder holds a cue sheet for its files, they carry its
    tracks."""
    files: list[Path] = []
    cue_tracks: dict[Path, tuple[CueTrack, ...]] = {}
    for folder, subfolders, names in os.walk(path):
        subfolders[:] = sorted((name for name in subfolders if name[0] != "."), key=str.casefold)
        entries = [Path(folder) / name for name in sorted(names, key=str.casefold)]
        entries = [entry for entry in entries if entry.name[0] != "."]
        audio = [entry for entry in entries if entry.suffix.lower() in AUDIO_FILE_SUFFIXES]
        cue_tracks.update(_tracks_by_sheets(_cue_sheets_among(entries), audio))
        files.extend(audio)
    return files, cue_tracks


def _tracks_beside(given: list[Path]) -> dict[Path, tuple[CueTrack, ...]]:
    """The tracks a cue sheet in its folder gives each file `given` alone (an album's image,
    its `.cue` beside it, as rippers leave them), else those of the one-file sheet of its
    own name whatever file that names (a rip converted after the sheet was written: it
    names "Album.wav" beside Album.flac). Each folder is listed, and its sheets read, once."""
    cue_tracks: dict[Path, tuple[CueTrack, ...]] = {}
    by_folder: dict[Path, list[Path]] = {}
    for audio in given:
        by_folder.setdefault(audio.parent, []).append(audio)
    for folder, files in by_folder.items():
        try:
            entries = [entry for entry in folder.iterdir() if entry.name[0] != "."]
        except OSError:
            continue
        named = _tracks_by_sheets(_cue_sheets_among(entries), files)
        cue_tracks.update(named)
        for audio in files:
            own_sheet = audio.with_suffix(CUE_SUFFIX)
            if named.get(audio) or own_sheet not in entries:
                continue
            try:
                cue_tracks[audio] = read_cue_sheet_as(own_sheet, audio)
            except CueSheetError:
                continue
    return {audio: tracks for audio, tracks in cue_tracks.items() if tracks}


class Playlist:
    """Files in play order and where play stands; `loop` starts again after the last."""

    def __init__(
        self,
        files: Sequence[Path],
        loop: bool = False,
        shuffle: bool = False,
        deal: random.Random | None = None,
        cue_tracks: dict[Path, tuple[CueTrack, ...]] | None = None,
    ):
        """`deal`: the shuffle's random source (a fresh one by default; a seeded one in
        tests). `cue_tracks`: the tracks a cue sheet gives a file of the list."""
        if not files:
            raise PlaylistError("the playlist is empty")
        self.files = [Path(file) for file in files]
        self.in_order = list(self.files)  # as given: what turning shuffle off goes back to
        self.cue_tracks = dict(cue_tracks or {})
        self.loop = loop
        self.shuffle = shuffle
        self._deal = deal if deal is not None else random.Random()
        if shuffle:
            self._deal.shuffle(self.files)
        self._next_round: list[Path] | None = None  # a looping shuffle's next deal, once dealt
        self.index = 0

    @classmethod
    def from_paths(
        cls, paths: Sequence[str | Path], loop: bool = False, shuffle: bool = False
    ) -> Playlist:
        files: list[Path] = []
        cue_tracks: dict[Path, tuple[CueTrack, ...]] = {}
        alone: list[Path] = []  # files given as themselves
        for given in paths:
            path = Path(given)
            if path.suffix.lower() == CUE_SUFFIX and path.is_file():
                try:
                    sheet = read_cue_sheet(path)
                except CueSheetError as error:
                    raise PlaylistError(str(error)) from error
                files.extend(audio for audio, _ in sheet)
                cue_tracks.update((audio, tracks) for audio, tracks in sheet if tracks)
            elif path.is_dir():
                found, found_tracks = _folder_entries(path)
                if not found:
                    raise PlaylistError(
                        f"the folder {path} holds no audio file ({' '.join(AUDIO_FILE_SUFFIXES)})"
                    )
                files.extend(found)
                cue_tracks.update(found_tracks)
            elif path.suffix.lower() in PLAYLIST_SUFFIXES and path.is_file():
                pls = path.suffix.lower() == PLS_SUFFIX
                found = _pls_entries(path) if pls else _m3u_entries(path)
                if not found:
                    raise PlaylistError(f"the playlist {path} lists no file")
                files.extend(found)
            elif path.is_file():
                files.append(path)
                alone.append(path)
            else:
                raise PlaylistError(f"{path} does not exist")
        beside = _tracks_beside([path for path in alone if path not in cue_tracks])
        return cls(files, loop, shuffle, cue_tracks={**beside, **cue_tracks})

    @classmethod
    def resumed(
        cls,
        files: Sequence[Path],
        index: int,
        loop: bool,
        shuffle: bool,
        cue_tracks: dict[Path, tuple[CueTrack, ...]] | None = None,
    ) -> Playlist:
        """A list as it stood: its files in their play order (dealt already, when
        shuffled: looping deals them again), at the file numbered `index` (kept inside)."""
        playlist = cls(files, loop, cue_tracks=cue_tracks)
        playlist.shuffle = shuffle
        playlist.index = min(max(index, 0), len(playlist.files) - 1)
        return playlist

    def set_shuffle(self, shuffle: bool) -> None:
        """Shuffle the files after the current one (it plays on, first of the new deal), or
        go back to the order given, at the current file."""
        if shuffle == self.shuffle:
            return
        self._next_round = None
        current = self.current
        if shuffle:
            rest = [file for file in self.files if file != current]
            self._deal.shuffle(rest)
            self.files, self.index = [current, *rest], 0
        else:
            self.files = list(self.in_order)
            self.index = self.files.index(current)
        self.shuffle = shuffle

    @property
    def current(self) -> Path:
        return self.files[self.index]

    @property
    def loops_one_file(self) -> bool:
        """One file looped: it plays on seamlessly instead of being opened again."""
        return self.loop and len(self.files) == 1

    @property
    def has_next(self) -> bool:
        """Another file follows the current one (the first again, when looping)."""
        return self.index + 1 < len(self.files) or (self.loop and len(self.files) > 1)

    @property
    def upcoming(self) -> Path | None:
        """The file `advance` will move to: None after the last file (not looping) and for
        one file looped. At a looping shuffle's last file, the next round is dealt now, so
        its first file is known (and can follow without a gap) before the last ends."""
        if self.index + 1 < len(self.files):
            return self.files[self.index + 1]
        if not self.loop or len(self.files) < 2:
            return None
        return self._dealt_next_round()[0] if self.shuffle else self.files[0]

    def _dealt_next_round(self) -> list[Path]:
        """A looping shuffle's next deal, dealt once: never starting with the file that
        ends this round, so no file plays twice in a row."""
        if self._next_round is None:
            ended = self.files[-1]
            deal = list(self.files)
            self._deal.shuffle(deal)
            if deal[0] == ended:
                deal[0], deal[-1] = deal[-1], deal[0]
            self._next_round = deal
        return self._next_round

    def back(self) -> Path | None:
        """Move to the file before and return it (the last from the first, when looping;
        in the order dealt, when shuffled); None at the first when not looping."""
        if self.index > 0:
            self.index -= 1
        elif self.loop and len(self.files) > 1:
            self.index = len(self.files) - 1
        else:
            return None
        return self.current

    def advance(self) -> Path | None:
        """Move to the next file and return it; None after the last when not looping."""
        if self.index + 1 < len(self.files):
            self.index += 1
        elif self.loop:
            if self.shuffle:
                self.files, self._next_round = self._dealt_next_round(), None
            self.index = 0
        else:
            return None
        return self.current


class PlaylistReading:
    """`Playlist.from_paths` on a thread of its own, for paths that name a folder: a walk
    through a whole library, or a network share's, never holds the window. `done` once it
    has finished; then `playlist`, or `error` (a `PlaylistError`'s words, or the file
    system's)."""

    def __init__(self, paths: Sequence[str | Path], loop: bool, shuffle: bool):
        self.paths = [Path(path) for path in paths]
        self.playlist: Playlist | None = None
        self.error: str | None = None
        self._thread = threading.Thread(
            target=self._read, args=(loop, shuffle), name="playlist-reading", daemon=True
        )
        self._thread.start()

    def _read(self, loop: bool, shuffle: bool) -> None:
        try:
            self.playlist = Playlist.from_paths(self.paths, loop, shuffle)
        except (PlaylistError, OSError) as error:
            self.error = str(error)

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

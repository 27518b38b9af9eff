"""The audio front end: one contract, decoding and the STFT that training and the app share."""

from .contract import FrontEndContract
from .decode import (
    AUDIO_FILE_SUFFIXES,
    AudioDecodeError,
    AudioFileReader,
    CorruptAudioError,
    EmptyAudioError,
    NotAnAudioFileError,
    UnsupportedAudioError,
    decode_file,
)
from .resample import StreamResampler
from .stft import (
    FrameAnalyser,
    RollingSTFT,
    analyse_blocks,
    analyse_signal,
    analyse_window,
    sanitize,
)

__all__ = [
    "AUDIO_FILE_SUFFIXES",
    "AudioDecodeError",
    "AudioFileReader",
    "CorruptAudioError",
    "EmptyAudioError",
    "FrameAnalyser",
    "FrontEndContract",
    "NotAnAudioFileError",
    "RollingSTFT",
    "StreamResampler",
    "UnsupportedAudioError",
    "analyse_blocks",
    "analyse_signal",
    "analyse_window",
    "decode_file",
    "sanitize",
]

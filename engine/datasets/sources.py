"""Where each supported dataset can be obtained: the registry `affectlens datasets fetch` reads.

A `Source` is either a direct public download (`url`, with `sha256` and `size` where known) or a page
to visit by hand (`access="page"`), a request form (`"request"`) or a site that needs an account
(`"account"`); fetch refuses the last three and says where to go.

Only URLs known to be the authors' official ones are listed. **Checksums of the real releases must be
filled in from the official release where they are unknown here**: an entry whose `sha256` is None is
never installed unverified -- fetch stops after the download, prints the file's sha256 for the user to
compare with the official one, and installs it only when rerun with `--sha256 HEX` (or `--no-verify`,
with a warning). No checksum below was guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Source", "SOURCES", "get_source"]


@dataclass(frozen=True)
class Source:
    """One dataset's download: a file to fetch and how it unpacks into the loader's layout."""

    name: str
    access: str  # public | page | request | account
    page: str  # where a person gets it (the request form, the download page, the repository)
    url: str | None = None
    sha256: str | None = None  # of the file at `url`; None = not known here (see the module docstring)
    size: int | None = None  # bytes
    filename: str | None = None  # name to save as (default: the URL's last part)
    unpack: str = "auto"  # auto (by extension) | zip | tar | none
    note: str = ""  # what the download holds and what else is needed

    @property
    def downloadable(self) -> bool:
        return self.access == "public" and self.url is not None


_SOURCES = (
    Source("emotion6", "public", "http://chenlab.ece.cornell.edu/people/kuanchuan/publications/",
           url="http://chenlab.ece.cornell.edu/people/kuanchuan/publications/Emotion6.zip",
           note="images/ and ground_truth.txt (the authors' page, Cornell)"),
    Source("ferplus", "public", "https://github.com/microsoft/FERPlus",
           url="https://raw.githubusercontent.com/microsoft/FERPlus/master/fer2013new.csv", size=1602762,
           unpack="none",
           note="labels only: fer2013new.csv. The images are FER2013's fer2013.csv (Kaggle, an account "
                "needed); put it beside fer2013new.csv or pass fer2013: in the config"),
    Source("oasis", "page", "https://osf.io/6pnd7/",
           note="download the OASIS folder (images/ and OASIS.csv) from the OSF project"),
    Source("twitter1", "page", "https://qzyou.github.io/",
           note="the authors' page (Q. You): images/ and ground_truth/twitter_{five,four,three}_agrees.txt"),
    Source("twitter2", "page", "http://www.ee.columbia.edu/ln/dvmm/vso/download/twitter_dataset.html",
           note="twitter.rar (a RAR archive: unpack it with unrar, then point path at twitter/)"),
    Source("abstract", "page", "https://www.imageemotion.org/", note="testImages_abstract.zip"),
    Source("artphoto", "page", "https://www.imageemotion.org/", note="testImages_artphoto.zip"),
    Source("unbiasedemo", "page", "https://rpand002.github.io/emotion.html",
           note="UnBiasedEmo.zip, which holds images.zip: unzip both"),
    Source("fi", "request", "https://qzyou.github.io/", note="ask the authors for the FI (emotion_dataset) archive"),
    Source("emoset", "request", "https://vcc.tech/EmoSet",
           note="EmoSet-118K.zip, after accepting the terms on the project page"),
    Source("affectnet", "request", "http://mohammadmahoor.com/affectnet/",
           note="sign the licence agreement; you receive Manually_Annotated.partN.rar and "
                "Manually_Annotated_file_lists.zip"),
    Source("rafdb", "request", "http://www.whdeng.cn/RAF/model1.html",
           note="e-mail the signed agreement to the PRIS lab; use the basic/ folder"),
    Source("ckplus", "request", "http://www.jeffcohn.net/Resources/",
           note="sign the CK+ agreement; unzip cohn-kanade-images.zip and Emotion_labels.zip into one folder"),
    Source("sfew", "request", "https://cs.anu.edu.au/few/", note="ask the EmotiW organisers for SFEW 2.0"),
    Source("fer2013", "account",
           "https://www.kaggle.com/c/challenges-in-representation-learning-facial-expression-recognition-challenge",
           note="fer2013.tar.gz from Kaggle (sign in, accept the competition rules)"),
)

SOURCES: dict[str, Source] = {source.name: source for source in _SOURCES}


def get_source(name: str) -> Source | None:
    return SOURCES.get(name)

"""The WordNet 3.0 database, offline, read by nltk.

nltk reads WordNet from an ``nltk_data`` folder, ``<dir>/corpora/wordnet/``,
with the database files and a ``lexnames`` file. Debian's ``wordnet-base``
(plus ``wordnet-sense-index`` for ``index.sense``) installs the database in
``/usr/share/wordnet`` without ``lexnames`` (only its man page), and nltk
refuses symbolic links that leave its folder. So :func:`load_wordnet`
copies the database once into a cache folder,
``$XDG_CACHE_HOME/mmcma/nltk_data/<key>`` (``~/.cache`` by default; ``key``
hashes the source folder and its files' sizes and times, so another or an
updated database gets its own copy), adds :data:`LEXNAMES`, and puts the
folder first on ``nltk.data.path`` (nltk's WordNet reader looks up
``corpora/wordnet`` there for its version mapping). The copy is made in a
temporary folder and renamed, under a file lock, so a crash or a parallel
process never leaves a half-copied database.

The source folder is ``$MMCMA_WORDNET_DIR`` if set, else
``/usr/share/wordnet``; without either, WordNet data that nltk already
finds (``python -m nltk.downloader wordnet``) is used.
"""
import functools
import hashlib
import os
import os.path as osp
import shutil
import tempfile
import warnings

from filelock import FileLock

from ...io import InputFileError, MissingFileError

#: WordNet's root noun; every WordNet 3.0 database has it.
ROOT_SYNSET = 'entity.n.01'
#: Environment variable naming the folder with the WordNet database files.
WORDNET_DIR_ENV = 'MMCMA_WORDNET_DIR'
#: Where Debian's ``wordnet-base`` installs the database.
DEBIAN_WORDNET_DIR = '/usr/share/wordnet'
#: Database files nltk's WordNet reader opens (``lexnames`` is written).
DATABASE_FILES = ('cntlist.rev', 'index.sense', 'index.adj', 'index.adv',
                  'index.noun', 'index.verb', 'data.adj', 'data.adv',
                  'data.noun', 'data.verb', 'adj.exc', 'adv.exc', 'noun.exc',
                  'verb.exc')

#: The 45 WordNet 3.0 lexicographer files (``lexnames(5WN)``): number,
#: name, syntactic category (1 noun, 2 verb, 3 adjective, 4 adverb).
LEXNAMES = (
    ('00', 'adj.all', 3), ('01', 'adj.pert', 3), ('02', 'adv.all', 4),
    ('03', 'noun.Tops', 1), ('04', 'noun.act', 1), ('05', 'noun.animal', 1),
    ('06', 'noun.artifact', 1), ('07', 'noun.attribute', 1),
    ('08', 'noun.body', 1), ('09', 'noun.cognition', 1),
    ('10', 'noun.communication', 1), ('11', 'noun.event', 1),
    ('12', 'noun.feeling', 1), ('13', 'noun.food', 1), ('14', 'noun.group', 1),
    ('15', 'noun.location', 1), ('16', 'noun.motive', 1),
    ('17', 'noun.object', 1), ('18', 'noun.person', 1),
    ('19', 'noun.phenomenon', 1), ('20', 'noun.plant', 1),
    ('21', 'noun.possession', 1), ('22', 'noun.process', 1),
    ('23', 'noun.quantity', 1), ('24', 'noun.relation', 1),
    ('25', 'noun.shape', 1), ('26', 'noun.state', 1),
    ('27', 'noun.substance', 1), ('28', 'noun.time', 1),
    ('29', 'verb.body', 2), ('30', 'verb.change', 2),
    ('31', 'verb.cognition', 2), ('32', 'verb.communication', 2),
    ('33', 'verb.competition', 2), ('34', 'verb.consumption', 2),
    ('35', 'verb.contact', 2), ('36', 'verb.creation', 2),
    ('37', 'verb.emotion', 2), ('38', 'verb.motion', 2),
    ('39', 'verb.perception', 2), ('40', 'verb.possession', 2),
    ('41', 'verb.social', 2), ('42', 'verb.stative', 2),
    ('43', 'verb.weather', 2), ('44', 'adj.ppl', 3))

INSTALL_HINT = ('install the database with `apt-get install wordnet-base '
                'wordnet-sense-index` (or set MMCMA_WORDNET_DIR to a folder '
                'with the WordNet 3.0 files, or run `python -m '
                'nltk.downloader wordnet`) and nltk with `pip install '
                "nltk` (`pip install 'mmcma[knowledge]'`)")


def _import_nltk():
    try:
        import nltk
        from nltk.corpus.reader.wordnet import WordNetCorpusReader
    except ImportError as e:
        raise ImportError(f'WordNet knowledge graphs need nltk: '
                          f'{INSTALL_HINT}') from e
    return nltk, WordNetCorpusReader


def source_folder():
    """The folder with the WordNet database files, or None (then nltk's own
    data is tried).

    Raises:
        MissingFileError: ``$MMCMA_WORDNET_DIR`` or the Debian folder lacks
            database files (all missing ones are named).
        InputFileError: Some of them are empty (named).
    """
    folder = os.environ.get(WORDNET_DIR_ENV)
    if not folder:
        if not osp.isdir(DEBIAN_WORDNET_DIR):
            return None
        folder = DEBIAN_WORDNET_DIR
    missing = [f for f in DATABASE_FILES
               if not osp.isfile(osp.join(folder, f))]
    if missing:
        raise MissingFileError(
            f'WordNet database incomplete in {folder}: {missing} missing '
            f'(index.sense comes with wordnet-sense-index); {INSTALL_HINT}')
    empty = [f for f in DATABASE_FILES
             if osp.getsize(osp.join(folder, f)) == 0]
    if empty:
        raise InputFileError(
            f'WordNet database in {folder} has empty files {empty}: expected '
            f'the WordNet 3.0 database; {INSTALL_HINT}')
    return folder


def _cache_root() -> str:
    base = os.environ.get('XDG_CACHE_HOME') or osp.join(
        osp.expanduser('~'), '.cache')
    return osp.join(base, 'mmcma', 'nltk_data')


def _source_key(folder: str) -> str:
    """Hash of the folder and its files' sizes and modification times."""
    h = hashlib.sha256(osp.realpath(folder).encode())
    for name in DATABASE_FILES:
        info = os.stat(osp.join(folder, name))
        h.update(f'{name}:{info.st_size}:{info.st_mtime_ns};'.encode())
    return h.hexdigest()[:16]


def nltk_layout(folder: str) -> str:
    """Copy the database in ``folder`` into an nltk_data layout, once.

    Returns:
        str: The nltk_data folder ``<dir>`` (holding
        ``corpora/wordnet/``).
    """
    root = _cache_root()
    data_dir = osp.join(root, _source_key(folder))
    corpus = osp.join(data_dir, 'corpora', 'wordnet')
    os.makedirs(root, exist_ok=True)
    with FileLock(data_dir + '.lock'):
        if osp.isfile(osp.join(corpus, 'lexnames')):
            return data_dir
        if osp.isdir(data_dir):  # left incomplete by hand: start again
            shutil.rmtree(data_dir)
        tmp = tempfile.mkdtemp(dir=root, prefix='.tmp-')
        try:
            target = osp.join(tmp, 'corpora', 'wordnet')
            os.makedirs(target)
            for name in DATABASE_FILES:
                shutil.copyfile(osp.join(folder, name),
                                osp.join(target, name))
            with open(osp.join(target, 'lexnames'), 'w') as f:
                f.writelines(f'{num}\t{name}\t{cat}\n'
                             for num, name, cat in LEXNAMES)
            os.rename(tmp, data_dir)
        finally:
            if osp.isdir(tmp):
                shutil.rmtree(tmp)
    return data_dir


@functools.lru_cache(maxsize=None)
def _reader(data_dir):
    nltk, reader_class = _import_nltk()
    if data_dir is None:
        try:
            reader = nltk.corpus.wordnet
            reader.ensure_loaded()
        except LookupError as e:
            raise FileNotFoundError(
                f'no WordNet database found (not in {DEBIAN_WORDNET_DIR}, '
                f'{WORDNET_DIR_ENV} unset, none on nltk.data.path): '
                f'{INSTALL_HINT}') from None
        return reader
    if data_dir not in nltk.data.path:
        nltk.data.path.insert(0, data_dir)
    with warnings.catch_warnings():
        # "The multilingual functions are not available": no OMW wanted.
        warnings.simplefilter('ignore', UserWarning)
        return reader_class(osp.join(data_dir, 'corpora', 'wordnet'), None)


def load_wordnet():
    """nltk's WordNet reader over the offline database (read once per
    process and database).

    Raises:
        ImportError: nltk is missing (how to install it).
        FileNotFoundError: No database, or an incomplete one (how to
            install it).
        InputFileError: A database with empty files or without WordNet's
            root noun (how to install it).
    """
    _import_nltk()
    folder = source_folder()
    data_dir = None if folder is None else nltk_layout(folder)
    try:  # the root of every noun: a database without it is no WordNet
        reader = _reader(data_dir)
        reader.synset(ROOT_SYNSET)
    except FileNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001  (nltk raises several types)
        where = folder or "nltk's data path"
        raise InputFileError(
            f'WordNet database in {where} is empty '
            f'or damaged: its root noun {ROOT_SYNSET} cannot be read '
            f'({type(e).__name__}: {e}); {INSTALL_HINT}') from e
    return reader

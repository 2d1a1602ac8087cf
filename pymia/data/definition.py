"""Names shared by creation, extraction and assembly: dictionary keys and HDF5 locations.

The ``KEY_*`` names are the keys of the sample dictionaries that extractors fill and transforms
modify. The ``LOC_*`` names are the paths inside a pymia HDF5 dataset; ``ATTR_*`` are attributes of
its root group. The layout is documented in ``docs/user/hdf5-layout.rst``; it is the layout pymia
0.3.4 wrote, plus a format version, hashes and provenance, so files written by 0.3.4 stay readable.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------------
# Sample dictionary keys (same strings as pymia 0.3.4)
KEY_CATEGORIES = "categories"
KEY_IMAGES = "images"
KEY_LABELS = "labels"
KEY_FILE_ROOT = "file_root"
KEY_SUBJECT = "subject"
KEY_SUBJECT_FILES = "subject_files"
KEY_SUBJECT_INDEX = "subject_index"
KEY_INDEX_EXPR = "index_expr"
KEY_SAMPLE_INDEX = "sample_index"
KEY_PROPERTIES = "properties"
KEY_SHAPE = "shape"
KEY_PLACEHOLDER_NAMES = "{}_names"
KEY_PLACEHOLDER_NAMES_SELECTED = "{}_names_selected"
KEY_PLACEHOLDER_PROPERTIES = "{}_properties"
KEY_PLACEHOLDER_FILES = "{}_files"

# ---------------------------------------------------------------------------------------------------
# HDF5 locations (same paths as pymia 0.3.4)
LOC_DATA_PLACEHOLDER = "data/{}"  # data/<category>/<k>, k = subject index zero-padded to len(str(n))
LOC_SUBJECT = "meta/subjects"  # vlen str (n,)
LOC_NAMES_PLACEHOLDER = "meta/names/{}_names"  # vlen str (entries,)
LOC_SHAPES_PLACEHOLDER = "meta/shapes/{}_shapes"  # integer (n, ndim) numpy shape per subject
LOC_IMGPROP_SHAPE = "meta/image_props/shapes"  # (n, dim) image size in ITK order (x, y, z)
LOC_IMGPROP_ORIGIN = "meta/image_props/origins"  # float64 (n, dim), mm, ITK order
LOC_IMGPROP_DIRECTION = "meta/image_props/directions"  # float64 (n, dim*dim), row-major ITK direction
LOC_IMGPROP_SPACING = "meta/image_props/spacing"  # float64 (n, dim), mm, ITK order
LOC_FILES_PLACEHOLDER = "meta/files/{}_files"  # vlen str (n, entries), relative to file_root
LOC_FILES_ROOT = "meta/files/file_root"  # vlen str scalar

# New in format version 2 (pymia >= 1.0); absent in files written by pymia 0.3.4
LOC_HASHES_SUBJECT = "meta/hashes/subjects"  # vlen str (n,): SHA-256 over the subject's raw files
LOC_HASHES_FILES_PLACEHOLDER = "meta/hashes/{}_files"  # vlen str (n, entries): SHA-256 of each raw file
# int64 (n,): byte offset of data/<category>/<k> in the file if stored contiguous and uncompressed, else -1;
# attribute "dtype": the numpy dtype string of those datasets. Lets readers map a subject without opening it.
LOC_OFFSETS_PLACEHOLDER = "meta/storage/{}_offsets"

ATTR_FORMAT_VERSION = "pymia_format_version"  # int; 2 for this layout, missing means pymia 0.3.4 (1)
ATTR_PYMIA_VERSION = "pymia_version"  # str, version of the pymia that wrote the file
ATTR_CREATED = "created"  # str, ISO 8601 UTC time of creation
ATTR_TRANSFORM = "transform"  # str, description of the creation-time transform (repr)
ATTR_META_ONLY = "meta_only"  # bool, True when no voxel data was written
ATTR_ANONYMIZED = "anonymized"  # bool, True when subject ids are pseudonyms and no paths are stored
ATTR_DATA_LAYOUT = "data_layout"  # str, JSON of the voxel storage (chunks, compression) of data/ datasets

FORMAT_VERSION = 2
LEGACY_FORMAT_VERSION = 1


def subject_key(subject_index: int, n_subjects: int) -> str:
    """Return the dataset name of a subject inside ``data/<category>``.

    Parameters
    ----------
    subject_index : int
        Zero-based index of the subject in ``meta/subjects``.
    n_subjects : int
        Number of subjects in the dataset.

    Returns
    -------
    str
        The index zero-padded to the number of digits of ``n_subjects`` (as pymia 0.3.4 wrote it).

    Examples
    --------
    >>> subject_key(3, 12)
    '03'
    """
    return str(subject_index).zfill(len(str(n_subjects)))

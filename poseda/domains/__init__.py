"""Building domains, once, for the ``poseda data ...`` commands: the built-in domains from the
upstream motion files and rigs of virtual cameras (:mod:`~poseda.domains.builders`,
:mod:`~poseda.domains.rig`, :mod:`~poseda.domains.mirror`, :mod:`~poseda.domains.prepare`),
custom and footage domains, imports of licensed datasets (:mod:`~poseda.domains.importers`), the
bundled source motion, exports for other code bases and statistics.

What training, adaptation and lifting read at run time is :mod:`poseda.data` (prepared domains,
the codec, device sets, splits), which never imports this package; this package sits above it.
"""

"""A library's `__main__` block that loads a configuration the project does not ship runs nowhere past that load."""

from __future__ import annotations

from cudaudit.rules.python.unshipped_configs import shipped_in, unshipped_load

SHIPPED = shipped_in(frozenset({"configs/unet.yaml", "nets/unet.py"}))


def _load(block: str) -> tuple[int, int] | None:
    return unshipped_load("nets/unet.py", f"import torch\n\n\nif __name__ == '__main__':\n{block}".encode(), SHIPPED)


def test_a_sure_load_of_a_file_the_scan_lacks_stops_the_block():
    assert _load("    opt = OmegaConf.load('../configs/dev/scratch.yaml')\n    net = Net(opt).cuda()\n") == (5, 6)
    with_block = "    with torch.no_grad():\n        opt = OmegaConf.load('options/tmp.yml')\n        net = Net(opt).cuda()\n"
    assert _load(with_block) == (6, 7)
    assert _load("    with open('/home/me/run.yaml') as f:\n        cfg = yaml.safe_load(f)\n    x = torch.ones(1).cuda()\n") == (5, 7)


def test_a_shipped_file_a_branch_a_write_or_a_data_file_is_no_stop():
    assert _load("    opt = OmegaConf.load('../configs/unet.yaml')\n    net = Net(opt).cuda()\n") is None
    assert _load("    opt = OmegaConf.load('./configs/unet.yaml')\n") is None
    assert _load("    if args.debug:\n        opt = OmegaConf.load('configs/dev.yaml')\n    net = Net().cuda()\n") is None
    assert _load("    try:\n        opt = OmegaConf.load('configs/dev.yaml')\n    except OSError:\n        opt = None\n") is None
    assert _load("    with open('configs/out.yaml', 'w') as f:\n        f.write(dump)\n    x = torch.ones(1).cuda()\n") is None
    assert _load("    data = json.load(open('data/annotations.json'))\n    x = torch.ones(1).cuda()\n") is None
    assert _load("    opt = OmegaConf.load(f'configs/{name}.yaml')\n") is None
    assert _load("    cfg = model_zoo.get_config_file('detection/rcnn.yaml')\n") is None


def test_a_module_without_a_main_block_or_a_literal_is_not_parsed():
    assert unshipped_load("nets/unet.py", b"opt = OmegaConf.load('configs/dev.yaml')\n", SHIPPED) is None
    assert unshipped_load("nets/unet.py", b"if __name__ == '__main__':\n    main()\n", SHIPPED) is None
    assert unshipped_load("nets/unet.py", b"if __name__ == '__main__':\n    x = 'a.yaml' +\n", SHIPPED) is None


def test_a_file_the_block_writes_first_is_no_stop():
    writes = "    with open('scratch.yaml', 'w') as f:\n        f.write(text)\n    opt = OmegaConf.load('scratch.yaml')\n"
    assert _load(writes + "    net = Net(opt).cuda()\n") is None
    assert _load("    OmegaConf.save(cfg, 'tmp/run.yaml')\n    opt = OmegaConf.load('tmp/run.yaml')\n") is None


def test_a_reader_that_skips_a_missing_file_is_no_load():
    assert _load("    parser = ConfigParser()\n    parser.read('local_settings.ini')\n    x = torch.ones(1).cuda()\n") is None


def test_a_download_or_a_url_is_no_load():
    assert _load("    path = wget.download('https://example.org/files/third.yaml')\n    x = torch.ones(1).cuda()\n") is None
    assert _load("    opt = OmegaConf.load('https://example.org/files/third.yaml')\n") is None


def test_a_path_above_the_scanned_folder_may_exist():
    assert _load("    opt = OmegaConf.load('../../configs/vae.yaml')\n    net = Net(opt).cuda()\n") is None
    assert _load("    opt = load_config('configs/../../../vae.yaml')\n") is None
    assert _load("    opt = load_config('../configs/vae.yaml')\n") == (5, 5)
    assert _load("    opt = recursive_load_config('../configs/vae.yaml')\n") == (5, 5)

"""The ConfounderGAN paper's published accuracies, where its text has them as a table.

Only Table 1 (transferability) and Table 2 (augmentations) give numbers in the text; Figures 4-5
are plots whose values the text does not state, so nothing of them is here. Table 1 lists all
three victims for SVHN, CIFAR10 and ImageNet25 but only VGG11 for BloodMNIST, Keratitis and ISIC:
the cells the paper does not give are absent, not filled in.

Rows and columns use the suite's names (suite_cells: series "natural" / "emn" / "confoundergan",
x = victim architecture or augmentation), so a paper table lines up with a measured one;
`columns` keeps the paper's own column labels for display.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PaperTable:
    source: str                                   # where in the paper, and in what setting
    dataset: str
    values: dict[str, dict[str, float]]           # series -> x -> test accuracy (%)
    columns: dict[str, str] = field(default_factory=dict)   # suite x -> the paper's column label

    def value(self, series: str, x) -> float | None:
        return self.values.get(series, {}).get(str(x))


_ARCHS = {"vgg11": "VGG11", "resnet50": "ResNet50", "densenet121": "DenseNet121"}


def _table1(dataset: str, rows: dict[str, tuple[float, float, float]]) -> PaperTable:
    """rows: victim architecture -> (Natural, EMN, Ours), as printed in Table 1."""
    values: dict[str, dict[str, float]] = {"natural": {}, "emn": {}, "confoundergan": {}}
    for arch, triple in rows.items():
        for series, acc in zip(values, triple):
            values[series][arch] = acc
    return PaperTable(f"ConfounderGAN paper, Table 1, {dataset}, noise made for ResNet-18", dataset, values,
                      {a: _ARCHS[a] for a in rows})


TABLE1 = (
    _table1("SVHN", {"vgg11": (95.0, 32.6, 25.4), "resnet50": (95.9, 10.6, 10.1),
                     "densenet121": (96.3, 10.9, 8.9)}),
    _table1("CIFAR10", {"vgg11": (86.2, 19.1, 16.9), "resnet50": (91.5, 17.9, 11.3),
                        "densenet121": (92.6, 18.6, 13.4)}),
    _table1("ImageNet25", {"vgg11": (62.6, 34.0, 26.5), "resnet50": (73.6, 12.3, 8.4),
                           "densenet121": (80.0, 11.3, 9.5)}),
    _table1("BloodMNIST", {"vgg11": (96.3, 35.4, 29.7)}),
    _table1("Keratitis", {"vgg11": (79.8, 55.4, 35.6)}),
    _table1("ISIC", {"vgg11": (72.6, 45.6, 18.7)}),
)

# Suite augmentation names -> Table 2's columns. The paper's FA is Fast AutoAugment; the suite runs
# kornia's AutoAugment ("cifar10" policy, one sub-policy per image) in its place, so that column is
# labelled with both.
_AUGMENT_COLUMNS = {"none": "No augmentation", "RHF": "RHF", "RC": "RC", "RHF+RC": "RHF+RC",
                    "CutOut": "CutOut", "MixUp": "MixUp", "CutMix": "CutMix",
                    "AutoAugment": "FA (Fast AutoAugment)"}

TABLE2 = PaperTable(
    "ConfounderGAN paper, Table 2, CIFAR-10, ResNet-18", "CIFAR-10",
    {"emn": dict(zip(_AUGMENT_COLUMNS, (17.4, 17.9, 18.0, 18.3, 18.2, 25.7, 18.6, 38.4))),
     "confoundergan": dict(zip(_AUGMENT_COLUMNS, (11.2, 11.9, 14.8, 14.9, 15.0, 19.3, 13.6, 39.3)))},
    _AUGMENT_COLUMNS)

# The suite experiment each table answers.
PAPER_TABLES: dict[str, tuple[PaperTable, ...]] = {"transfer": TABLE1, "augment": (TABLE2,)}

"""Image size and the Cityscapes label space (19 train ids, ignore value, labelId mapping)."""
import numpy as np

HEIGHT, WIDTH = 256, 512
IGNORE_INDEX = 255
CLASS_NAMES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
               'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck',
               'bus', 'train', 'motorcycle', 'bicycle')
NUM_CLASSES = len(CLASS_NAMES)
ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN, SKY = range(11)
PERSON, RIDER, CAR, TRUCK, BUS, TRAIN, MOTORCYCLE, BICYCLE = range(11, 19)
# Official Cityscapes trainId -> labelId table (255 -> 0, "unlabeled").
TRAIN_ID_TO_LABEL_ID = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33)


def train_ids_to_label_ids(label: np.ndarray) -> np.ndarray:
    """Map trainIds (0..18, 255) to Cityscapes labelIds (255 -> 0)."""
    table = np.zeros(256, np.uint8)
    table[:NUM_CLASSES] = TRAIN_ID_TO_LABEL_ID
    return table[label]

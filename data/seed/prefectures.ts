/**
 * The prefectures a seed writes. Zhaotong is the real one (its 11 county
 * outlines); the province scale adds 7 synthetic prefectures, each a copy of
 * Zhaotong's outlines moved by whole degrees to where that prefecture lies in
 * Yunnan (roughly: the copies are laid out on a grid so that none overlaps
 * another). Their codes are the real prefecture codes (统计用区划代码), their
 * counties keep Zhaotong's last two digits (5303 + 02 → 530302), and their
 * county names are made up by the seed (the outlines are not theirs).
 */
export interface Prefecture {
  /** The 4-digit prefix of every code inside it. */
  prefix: string
  name: string
  /** Shift of Zhaotong's outlines, degrees east and north (0, 0 for Zhaotong). */
  dx: number
  dy: number
}

export const ZHAOTONG: Prefecture = { prefix: '5306', name: '昭通市', dx: 0, dy: 0 }

/** Zhaotong spans about 102.9–105.3°E, 26.5–28.7°N: copies step 2.5° west and 2.3° south. */
export const provincePrefectures: Prefecture[] = [
  ZHAOTONG,
  { prefix: '5307', name: '丽江市', dx: -2.5, dy: 0 },
  { prefix: '5334', name: '迪庆藏族自治州', dx: -5, dy: 0 },
  { prefix: '5303', name: '曲靖市', dx: 0, dy: -2.3 },
  { prefix: '5323', name: '楚雄彝族自治州', dx: -2.5, dy: -2.3 },
  { prefix: '5329', name: '大理白族自治州', dx: -5, dy: -2.3 },
  { prefix: '5326', name: '文山壮族苗族自治州', dx: 0, dy: -4.6 },
  { prefix: '5308', name: '普洱市', dx: -2.5, dy: -4.6 },
]

import { describe, expect, it } from 'vitest'
import { maskName, maskPhone } from './mask.ts'

describe('masking', () => {
  it('keeps the surname and the ends of a phone number', () => {
    expect(maskName('张三丰')).toBe('张**')
    expect(maskName('李')).toBe('*')
    expect(maskName(null)).toBeNull()
    expect(maskPhone('13812345678')).toBe('138****5678')
    expect(maskPhone('0870-2123456')).toBe('087****3456')
    expect(maskPhone('12345')).toBe('*****')
  })
})

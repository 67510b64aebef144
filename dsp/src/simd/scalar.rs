//! The portable reference kernels: plain loops, the definition the fast paths are held to.

use num_complex::Complex32;

pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn dot_real_complex(h: &[f32], x: &[Complex32]) -> Complex32 {
    h.iter()
        .zip(x)
        .fold(Complex32::default(), |acc, (h, x)| acc + x * h)
}

pub fn dot_complex(w: &[Complex32], x: &[Complex32]) -> Complex32 {
    w.iter()
        .zip(x)
        .fold(Complex32::default(), |acc, (w, x)| acc + w * x)
}

pub fn lms_update(w: &mut [Complex32], g: Complex32, x: &[Complex32]) {
    for (w, x) in w.iter_mut().zip(x) {
        *w += g * x.conj();
    }
}

//! Pages as PNG (1-bit greyscale) for people to look at.

use std::io::Write;

use softfax_dsp::image::Page;

/// Encode `page` as a 1-bit greyscale PNG (white paper, black ink) with its resolution in
/// the pHYs chunk.
pub fn page_png(page: &Page, out: impl Write) -> Result<(), png::EncodingError> {
    let mut enc = png::Encoder::new(out, page.width, page.height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::One);
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: (page.resolution.x_dpi as f64 / 0.0254).round() as u32,
        yppu: (page.resolution.y_dpi as f64 / 0.0254).round() as u32,
        unit: png::Unit::Meter,
    }));
    let mut w = enc.write_header()?;
    // PNG greyscale: 1 = white; pages: 1 = black.
    let inverted: Vec<u8> = page.data.iter().map(|b| !b).collect();
    w.write_image_data(&inverted)?;
    w.finish()
}

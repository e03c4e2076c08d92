//! QR codes of reservation numbers, as PNG images for emails (the till
//! scans the shopper's phone screen).

use qrcode::{Color, QrCode};

/// Pixels per QR module.
const SCALE: usize = 8;
/// Blank modules around the code, as scanners need.
const QUIET: usize = 4;

/// The dark modules of `text`'s QR code as (column, row), and its width.
fn dark_modules(text: &str) -> Result<(Vec<(usize, usize)>, usize), String> {
    let code = QrCode::new(text.as_bytes()).map_err(|e| e.to_string())?;
    let modules = code.width();
    let dark = code
        .to_colors()
        .iter()
        .enumerate()
        .filter(|(_, color)| **color == Color::Dark)
        .map(|(index, _)| (index % modules, index / modules))
        .collect();
    Ok((dark, modules))
}

/// An SVG of `text` as a QR code, one unit per module, for pages: it stays
/// sharp at any zoom on the shopper's screen.
pub fn svg(text: &str, label: &str) -> Result<String, String> {
    let (dark, modules) = dark_modules(text)?;
    let side = modules + 2 * QUIET;
    let mut path = String::with_capacity(dark.len() * 14);
    for (x, y) in dark {
        path.push_str(&format!("M{},{}h1v1h-1z", x + QUIET, y + QUIET));
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" role=\"img\" \
aria-label=\"{label}\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
<path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// A black-on-white PNG of `text` as a QR code.
pub fn png(text: &str) -> Result<Vec<u8>, String> {
    let (dark, modules) = dark_modules(text)?;
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (x, y) in dark {
        let (mx, my) = (x + QUIET, y + QUIET);
        for y in my * SCALE..(my + 1) * SCALE {
            let row = y * side;
            pixels[row + mx * SCALE..row + (mx + 1) * SCALE].fill(0);
        }
    }
    let mut out = Vec::new();
    {
        let side = u32::try_from(side).map_err(|e| e.to_string())?;
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    /// The SVG draws exactly the modules of the PNG that rqrr scans back.
    #[test]
    fn the_svg_draws_the_same_modules() {
        let svg = super::svg("K7Q4-MZ2P", "QR").unwrap();
        let path = svg.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
        let mut drawn: Vec<(usize, usize)> = path
            .split('M')
            .filter(|part| !part.is_empty())
            .map(|part| {
                let xy = part.trim_end_matches("h1v1h-1z");
                let (x, y) = xy.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        drawn.sort_unstable();
        let (mut expected, _) = super::dark_modules("K7Q4-MZ2P").unwrap();
        for module in &mut expected {
            *module = (module.0 + super::QUIET, module.1 + super::QUIET);
        }
        expected.sort_unstable();
        assert_eq!(drawn, expected);
    }

    /// Decodes our PNG with independent crates (png to read, rqrr to scan).
    #[test]
    fn the_png_scans_back_to_the_number() {
        let bytes = super::png("K7Q4-MZ2P").unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buffer).unwrap();
        let (w, h) = (info.width as usize, info.height as usize);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buffer[y * w + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, "K7Q4-MZ2P");
    }
}

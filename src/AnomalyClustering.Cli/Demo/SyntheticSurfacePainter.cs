using System.Runtime.InteropServices;
using SkiaSharp;

namespace AnomalyClustering.Cli.Demo;

/// <summary>
/// Paints one image of the synthetic product line: a brushed-metal plate (horizontal grain,
/// uneven lighting, sensor noise) with at most one small defect. Everything random comes from the
/// <see cref="Random"/> passed in, so a seed reproduces the image bit for bit.
/// </summary>
internal static class SyntheticSurfacePainter
{
    /// <summary>Width and height of every image in pixels (the preprocessing crops the central 224 x 224).</summary>
    public const int ImageSize = 256;

    // Defects stay inside the centre crop with a margin, so preprocessing never cuts them off.
    private const float PlacementMargin = 64f;

    private const int GrainLength = 41;

    /// <summary>Paints one image and returns it PNG-encoded.</summary>
    public static byte[] PaintPng(DefectType defect, Random random)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(ImageSize, ImageSize, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = new byte[ImageSize * ImageSize * 4];
        PaintBrushedMetal(pixels, random);
        Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);

        using (var canvas = new SKCanvas(bitmap))
        {
            var centre = new SKPoint(
                PlacementMargin + (float)random.NextDouble() * (ImageSize - 2 * PlacementMargin),
                PlacementMargin + (float)random.NextDouble() * (ImageSize - 2 * PlacementMargin));
            switch (defect)
            {
                case DefectType.Good:
                    break;
                case DefectType.Scratch:
                    PaintScratch(canvas, centre, random);
                    break;
                case DefectType.Stain:
                    PaintStain(canvas, centre, random);
                    break;
                case DefectType.Crack:
                    PaintCrack(canvas, centre, random);
                    break;
                case DefectType.Hole:
                    PaintHole(canvas, centre, random);
                    break;
                case DefectType.Contamination:
                    PaintContamination(canvas, centre, random);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(defect), defect, "unknown defect type");
            }
        }

        // Sensor noise over everything, defects included, as a camera would add it.
        Marshal.Copy(bitmap.GetPixels(), pixels, 0, pixels.Length);
        AddSensorNoise(pixels, random, amplitude: 3);
        Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Grey metal with horizontal grain (white noise averaged along rows) and a lighting gradient.</summary>
    private static void PaintBrushedMetal(Span<byte> rgba, Random random)
    {
        var baseLevel = 132 + random.NextDouble() * 16;
        var tint = random.NextDouble() * 4;
        var lightAngle = random.NextDouble() * Math.Tau;
        // Uneven lighting: a linear ramp of at most +-10 grey levels across the plate.
        var (lightX, lightY) = (Math.Cos(lightAngle) * 20 / ImageSize, Math.Sin(lightAngle) * 20 / ImageSize);

        var rowOffset = new double[ImageSize];
        var phase1 = random.NextDouble() * Math.Tau;
        var phase2 = random.NextDouble() * Math.Tau;
        for (var y = 0; y < ImageSize; y++)
        {
            rowOffset[y] = 3 * Math.Sin(y * 0.11 + phase1) + 2 * Math.Sin(y * 0.37 + phase2) + 2.5 * Gaussian(random);
        }

        var noise = new double[ImageSize + GrainLength];
        for (var y = 0; y < ImageSize; y++)
        {
            for (var i = 0; i < noise.Length; i++)
            {
                noise[i] = Gaussian(random);
            }
            // A running mean along the row turns white noise into the long streaks of a brushed finish.
            var window = 0.0;
            for (var i = 0; i < GrainLength; i++)
            {
                window += noise[i];
            }
            for (var x = 0; x < ImageSize; x++)
            {
                var grain = window / Math.Sqrt(GrainLength) * 4.5;
                window += noise[x + GrainLength] - noise[x];
                var level = baseLevel + rowOffset[y] + grain + (x - ImageSize / 2) * lightX + (y - ImageSize / 2) * lightY;
                var offset = (y * ImageSize + x) * 4;
                rgba[offset] = ToByte(level - tint);
                rgba[offset + 1] = ToByte(level);
                rgba[offset + 2] = ToByte(level + tint);
                rgba[offset + 3] = 255;
            }
        }
    }

    private static void PaintScratch(SKCanvas canvas, SKPoint centre, Random random)
    {
        // Across the grain (at least 25 degrees off horizontal): a scratch along the grain would be a brushing streak.
        var angle = (25 + random.NextDouble() * 130) * Math.PI / 180;
        var length = 55 + random.NextDouble() * 30;
        var (dx, dy) = ((float)(Math.Cos(angle) * length / 2), (float)(Math.Sin(angle) * length / 2));
        var bend = (float)(random.NextDouble() * 16 - 8);
        var start = new SKPoint(centre.X - dx, centre.Y - dy);
        var end = new SKPoint(centre.X + dx, centre.Y + dy);
        var control = new SKPoint(centre.X - dy / (float)length * 2 * bend, centre.Y + dx / (float)length * 2 * bend);

        using var builder = new SKPathBuilder();
        builder.MoveTo(start);
        builder.QuadTo(control, end);
        using var path = builder.Detach();
        var width = 2.6f + (float)random.NextDouble() * 0.8f;
        // A groove: a soft shadow beside a bright, thin edge catching the light.
        using var shadow = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = width + 1.2f, StrokeCap = SKStrokeCap.Round, Color = new SKColor(70, 72, 76, 110) };
        using var edge = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = width, StrokeCap = SKStrokeCap.Round, Color = new SKColor(236, 238, 242, 235) };
        canvas.Save();
        canvas.Translate(0.8f, 0.8f);
        canvas.DrawPath(path, shadow);
        canvas.Restore();
        canvas.DrawPath(path, edge);
    }

    private static void PaintStain(SKCanvas canvas, SKPoint centre, Random random)
    {
        var radiusX = 11 + (float)random.NextDouble() * 5;
        var radiusY = radiusX * (0.75f + (float)random.NextDouble() * 0.25f);
        using var blur = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, 2.2f);
        using var paint = new SKPaint { IsAntialias = true, Color = new SKColor(58, 50, 42, 215), MaskFilter = blur };
        canvas.Save();
        canvas.RotateDegrees((float)(random.NextDouble() * 180), centre.X, centre.Y);
        canvas.DrawOval(centre, new SKSize(radiusX, radiusY), paint);
        canvas.Restore();
        // A darker core where the liquid dried last.
        using var core = new SKPaint { IsAntialias = true, Color = new SKColor(40, 34, 28, 120), MaskFilter = blur };
        canvas.DrawCircle(centre, radiusY * 0.45f, core);
    }

    private static void PaintCrack(SKCanvas canvas, SKPoint centre, Random random)
    {
        using var main = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 2.2f + (float)random.NextDouble() * 0.6f, StrokeJoin = SKStrokeJoin.Miter, Color = new SKColor(28, 28, 32, 240) };
        using var branch = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 1.5f, StrokeJoin = SKStrokeJoin.Miter, Color = new SKColor(34, 34, 38, 220) };

        var heading = random.NextDouble() * Math.Tau;
        var segments = 6 + random.Next(3);
        var points = JaggedWalk(centre, heading, segments, random, stepMin: 5, stepMax: 8);
        // Walk both ways from the centre so the crack stays centred where it was placed.
        var back = JaggedWalk(centre, heading + Math.PI, segments / 2, random, stepMin: 5, stepMax: 8);
        using (var builder = new SKPathBuilder())
        {
            builder.MoveTo(back[^1]);
            for (var i = back.Count - 2; i >= 0; i--)
            {
                builder.LineTo(back[i]);
            }
            foreach (var point in points.Skip(1))
            {
                builder.LineTo(point);
            }
            using var path = builder.Detach();
            canvas.DrawPath(path, main);
        }

        var branches = 1 + random.Next(2);
        for (var b = 0; b < branches; b++)
        {
            var from = points[2 + random.Next(points.Count - 3)];
            var side = random.Next(2) == 0 ? -1 : 1;
            var twig = JaggedWalk(from, heading + side * (0.6 + random.NextDouble() * 0.5), 3 + random.Next(3), random, stepMin: 5, stepMax: 8);
            using var builder = new SKPathBuilder();
            builder.MoveTo(twig[0]);
            foreach (var point in twig.Skip(1))
            {
                builder.LineTo(point);
            }
            using var path = builder.Detach();
            canvas.DrawPath(path, branch);
        }
    }

    private static void PaintHole(SKCanvas canvas, SKPoint centre, Random random)
    {
        var radius = 6 + (float)random.NextDouble() * 2;
        // Raised burr around the pit catches the light; the pit itself is in shadow.
        using var rim = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 2.6f, Color = new SKColor(238, 240, 244, 240) };
        using var pit = new SKPaint { IsAntialias = true, Color = new SKColor(18, 18, 22, 250) };
        using var shading = SKShader.CreateRadialGradient(
            new SKPoint(centre.X - radius * 0.3f, centre.Y - radius * 0.3f), radius,
            [new SKColor(60, 60, 66, 255), new SKColor(14, 14, 18, 255)], null, SKShaderTileMode.Clamp);
        pit.Shader = shading;
        canvas.DrawCircle(centre, radius + 1.6f, rim);
        canvas.DrawCircle(centre, radius, pit);
    }

    private static void PaintContamination(SKCanvas canvas, SKPoint centre, Random random)
    {
        var vertices = 9 + random.Next(4);
        using var builder = new SKPathBuilder();
        for (var v = 0; v < vertices; v++)
        {
            var angle = v * Math.Tau / vertices;
            var radius = 8 + random.NextDouble() * 8;
            var point = new SKPoint(centre.X + (float)(Math.Cos(angle) * radius), centre.Y + (float)(Math.Sin(angle) * radius));
            if (v == 0)
            {
                builder.MoveTo(point);
            }
            else
            {
                builder.LineTo(point);
            }
        }
        builder.Close();
        using var path = builder.Detach();
        using var blur = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, 1.4f);
        using var paint = new SKPaint { IsAntialias = true, Color = new SKColor(168, 86, 38, 215), MaskFilter = blur };
        canvas.DrawPath(path, paint);
    }

    /// <summary>A polyline that turns by up to about 40 degrees at every vertex, starting at <paramref name="start"/>.</summary>
    private static List<SKPoint> JaggedWalk(SKPoint start, double heading, int segments, Random random, double stepMin, double stepMax)
    {
        var points = new List<SKPoint>(segments + 1) { start };
        var current = start;
        for (var s = 0; s < segments; s++)
        {
            var turn = (random.NextDouble() - 0.5) * 1.4;
            var step = stepMin + random.NextDouble() * (stepMax - stepMin);
            current = new SKPoint(current.X + (float)(Math.Cos(heading + turn) * step), current.Y + (float)(Math.Sin(heading + turn) * step));
            points.Add(current);
        }
        return points;
    }

    private static void AddSensorNoise(Span<byte> rgba, Random random, double amplitude)
    {
        for (var i = 0; i < rgba.Length; i += 4)
        {
            var n = Gaussian(random) * amplitude;
            rgba[i] = ToByte(rgba[i] + n);
            rgba[i + 1] = ToByte(rgba[i + 1] + n);
            rgba[i + 2] = ToByte(rgba[i + 2] + n);
        }
    }

    /// <summary>A standard normal sample (Box-Muller), so the generator needs nothing beyond <see cref="Random"/>.</summary>
    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(Math.Tau * u2);
    }

    private static byte ToByte(double value) => (byte)Math.Clamp(Math.Round(value), 0, 255);
}
